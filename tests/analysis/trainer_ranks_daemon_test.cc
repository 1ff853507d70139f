// Head-parallel training through the real daemon (`--trainer-ranks N`,
// crosscoder/trainer_ranks.h): conceptwatchd starts N − 1 conceptwatch-
// trainer processes, and every update's training steps run over Gloo on
// loopback with block r of the heads on rank r.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "analysis/training_footprint.h"
#include "crosscoder/crosscoder_options.h"
#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/support/safetensors_file.h"

namespace cw {
namespace {

using testing::DaemonProcess;

// The recovery fixture's crosscoder with whole budgets (a group trains no
// seconds limit, so the one-process run must not have one either) and no
// idle refinement (the tests compare what each update trained).
constexpr const char* kConfig =
    "[crosscoder]\nn_features = 64\nbatch_size = 256\nsteps_per_update = 60\nseconds_per_update = 0\n"
    "lr = 0.003\nsparsity_lambda = 0.02\nseed = 2\nthreads = 1\nrefine_steps = 0\n"
    "[analysis]\ntrainer_rank_timeout_seconds = 10\n";

PlantedDictionary fixture() {
  PlantedOptions o = recovery_fixture();
  o.n_snapshots = 6;
  o.n_tokens = 1024;
  return make_planted_dictionary(o);
}

struct Trained {
  std::vector<std::pair<double, double>> losses;  // first and last loss of each update
  std::vector<float> decoder;                     // W_D as exported, raw
  std::vector<std::string> events;                // every feature's emerged/faded/strengthened steps
  bool streamed = false;                          // trained from the stored rows (over the memory cap)
  nlohmann::json ranks;                           // status: daemon.trainers.ranks at the end
};

// `analysis`: more [analysis] keys.
DaemonProcess start_daemon(const testing::TempDir& dir, int ranks, const std::string& analysis = "") {
  const std::string config = dir.sub("ranks.toml");
  std::ofstream(config) << kConfig << analysis;
  return DaemonProcess(
      {"--config", config, "--crosscoder-priority", "normal", "--trainer-ranks", std::to_string(ranks)});
}

std::vector<std::string> feature_events(const DaemonProcess& daemon) {
  std::vector<std::string> out;
  // Kept in a variable: a range over ["features"] of the temporary answer
  // would read it after it is destroyed.
  const auto answer = daemon.query("features", {{"run", "planted"}, {"filter", "all"}, {"limit", 0}});
  for (const auto& f : answer["features"])
    out.push_back(std::to_string(f["feature"].get<int64_t>()) + ": " + f.value("emerged_step", nlohmann::json()).dump() +
                  " " + f.value("faded_step", nlohmann::json()).dump() + " " +
                  f.value("strengthened_step", nlohmann::json()).dump());
  return out;
}

Trained finish(const DaemonProcess& daemon, Trained out) {
  out.decoder = testing::read_f32_safetensor(testing::export_crosscoder(daemon, "planted") + "/crosscoder.safetensors",
                                             "W_D")
                    .values;
  out.events = feature_events(daemon);
  return out;
}

Trained stream_on_ranks(const PlantedDictionary& p, int ranks, const std::string& analysis = "") {
  testing::TempDir dir;
  DaemonProcess daemon = start_daemon(dir, ranks, analysis);
  daemon.start();
  Trained out;
  testing::stream_planted(daemon, "planted", p, {}, {}, [&](int64_t) {
    const auto update = testing::worker_status(daemon, "planted")["last_update"];
    out.losses.emplace_back(update["first_loss"].get<double>(), update["loss"].get<double>());
  });
  out.ranks = daemon.query("status")["daemon"]["trainers"]["ranks"];
  EXPECT_EQ(out.ranks["world_size"], ranks);
  EXPECT_EQ(out.ranks["processes"].size(), std::size_t(ranks - 1));
  out.streamed = testing::worker_status(daemon, "planted").value("streamed", false);
  return finish(daemon, std::move(out));
}

// Snapshots 0 … T − 2, each taken in before the next.
void take_in_all_but_the_last(DaemonProcess& daemon, const PlantedDictionary& p) {
  for (int64_t t = 0; t + 1 < p.options.n_snapshots; ++t) {
    testing::publish_planted_snapshot(daemon, "planted", p, t);
    testing::wait_for_crosscoder(daemon, "planted", t + 1);
  }
}

float largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// What `daemon` trained (its export and events) against `reference`: W_D
// within 1e-4 (printed), the same events.
void expect_trained_as(const Trained& reference, const DaemonProcess& daemon, const std::string& what) {
  const Trained trained = finish(daemon, {});
  const float worst = largest_difference(reference.decoder, trained.decoder);
  std::printf("%s: exported W_D within %.3g\n", what.c_str(), worst);
  EXPECT_LT(worst, 1e-4f);
  EXPECT_EQ(trained.events, reference.events);
}

// Online through the daemon, one snapshot per update: one, two and four
// ranks train alike, and a state trained on four ranks resumes on two (a
// daemon restarted with another --trainer-ranks) as if uninterrupted.
TEST(TrainerRanksDaemon, OneTwoAndFourRanksTrainAlikeAndResumeOnAnotherCount) {
  const PlantedDictionary p = fixture();
  const int64_t T = p.options.n_snapshots;
  const Trained alone = stream_on_ranks(p, 1);
  ASSERT_EQ(alone.losses.size(), std::size_t(p.options.n_snapshots));
  for (int ranks : {2, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const Trained spread = stream_on_ranks(p, ranks);
    ASSERT_EQ(spread.losses.size(), alone.losses.size());
    for (std::size_t u = 0; u < alone.losses.size(); ++u) {
      // The same arithmetic (training_step.h): equal but for the float64
      // sums' order in the reported loss.
      EXPECT_NEAR(spread.losses[u].first, alone.losses[u].first, 1e-6 * alone.losses[u].first) << "update " << u;
      EXPECT_NEAR(spread.losses[u].second, alone.losses[u].second, 1e-6 * alone.losses[u].second) << "update " << u;
    }
    const float worst = largest_difference(alone.decoder, spread.decoder);
    std::printf("%d ranks: exported W_D within %.3g of one process; last loss %.8f vs %.8f\n", ranks, worst,
                spread.losses.back().second, alone.losses.back().second);
    EXPECT_LT(worst, 1e-4f);
    EXPECT_EQ(spread.events, alone.events);
  }

  testing::TempDir dir;
  DaemonProcess daemon = start_daemon(dir, 4);
  daemon.start();
  take_in_all_but_the_last(daemon, p);
  ASSERT_EQ(daemon.terminate(), 0);
  daemon.set_extra_args({"--config", dir.sub("ranks.toml"), "--crosscoder-priority", "normal", "--trainer-ranks", "2"});
  daemon.start();
  testing::publish_planted_snapshot(daemon, "planted", p, T - 1);
  testing::wait_for_crosscoder(daemon, "planted", T);
  const auto update = testing::worker_status(daemon, "planted")["last_update"];
  EXPECT_NEAR(update["loss"].get<double>(), alone.losses.back().second, 1e-6 * alone.losses.back().second);
  expect_trained_as(alone, daemon, "4 ranks, restarted on 2 for the last update, against one process");
}

// A crosscoder over the memory cap is streamed: its rows stay in the
// store's row files. On two ranks on one machine rank 1 reads its own
// heads' rows from them, rank 0 sends it none (crosscoder/rows_over_ranks.h),
// and it trains as on one.
TEST(TrainerRanksDaemon, AStreamedCrosscoderTrainsOnTwoRanksAsOnOne) {
  PlantedOptions o = recovery_fixture();
  o.d_model = 256;
  o.n_atoms = 64;
  o.n_snapshots = 3;   // two updates spread (a block per rank needs two heads)
  o.n_tokens = 12288;  // 12 MiB a snapshot
  const PlantedDictionary p = make_planted_dictionary(o);
  CrosscoderOptions options;  // kConfig's sizes
  options.d_model = o.d_model;
  options.n_features = 64;
  options.batch_size = 256;
  const uint64_t cap = training_footprint(options, o.n_snapshots, o.n_tokens, /*streamed=*/true).total();
  ASSERT_GT(training_footprint(options, 2, o.n_tokens).total(), cap);  // streamed once there are two heads
  const std::string analysis = "memory_cap_bytes = " + std::to_string(cap) + "\n";
  const Trained alone = stream_on_ranks(p, 1, analysis);
  const Trained spread = stream_on_ranks(p, 2, analysis);
  EXPECT_TRUE(alone.streamed);
  EXPECT_TRUE(spread.streamed);
  EXPECT_EQ(spread.ranks["ranks_reading_row_files"], 1);
  EXPECT_EQ(spread.ranks["row_bytes_sent"], 0);
  ASSERT_EQ(spread.losses.size(), alone.losses.size());
  for (std::size_t u = 0; u < alone.losses.size(); ++u)
    EXPECT_NEAR(spread.losses[u].second, alone.losses[u].second, 1e-6 * alone.losses[u].second) << "update " << u;
  const float worst = largest_difference(alone.decoder, spread.decoder);
  std::printf("streamed, 2 ranks: exported W_D within %.3g of one rank; last loss %.8f vs %.8f\n", worst,
              spread.losses.back().second, alone.losses.back().second);
  EXPECT_LT(worst, 1e-4f);
  EXPECT_EQ(spread.events, alone.events);
}

// Rank 1 killed in the middle of an update: the update fails (the daemon
// says so in status), the daemon starts the rank again, and the update is
// retried from the stored state until it trains; every snapshot is taken
// in and the result is what an uninterrupted run on two ranks gives.
TEST(TrainerRanksDaemon, ARankKilledMidUpdateFailsItAndTrainingResumesWhenTheRankIsBack) {
  const PlantedDictionary p = fixture();
  const int64_t T = p.options.n_snapshots;
  const Trained uninterrupted = stream_on_ranks(p, 2);
  testing::TempDir dir;
  DaemonProcess daemon = start_daemon(dir, 2);
  daemon.start();
  take_in_all_but_the_last(daemon, p);
  const auto rank_pid = [&] {
    return daemon.query("status")["daemon"]["trainers"]["ranks"]["processes"][0]["pid"].get<pid_t>();
  };
  const pid_t first = rank_pid();
  ASSERT_GT(first, 0);
  testing::publish_planted_snapshot(daemon, "planted", p, T - 1);
  // Mid-update: once the last update has trained some of its 60 steps
  // (train_step stays at the update before's 59 until the first progress).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
  };
  testing::wait_for_worker(
      daemon, "planted", left(), std::chrono::milliseconds(2),
      [](const nlohmann::json& worker) {
        const int64_t step = worker.value("train_step", int64_t(0));
        return worker.value("state", "") == "training" && step >= 10 && step <= 40;
      },
      "train steps 10-40 of its last update");
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  const auto since_kill = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  };
  // The failure is reported ...
  nlohmann::json failed;
  testing::wait_for_worker(
      daemon, "planted", left(), std::chrono::milliseconds(20),
      [&](const nlohmann::json& worker) {
        failed = worker;
        return worker.value("rank_failures", 0) >= 1;
      },
      "report the rank's failure", testing::WorkerErrors::kTransient);
  EXPECT_NE(failed.value("error", "").find("trainer ranks"), std::string::npos) << failed.dump();
  const double reported = since_kill();
  // ... and once the rank is back, the update trains (the status says
  // "error" until then, which wait_for_crosscoder would take for good).
  testing::wait_for_worker(
      daemon, "planted", left(), std::chrono::milliseconds(50),
      [&](const nlohmann::json& worker) {
        return worker.value("snapshots", int64_t(0)) == T && worker.value("state", "") == "idle";
      },
      "train the update once the rank was back", testing::WorkerErrors::kTransient);
  std::printf("rank killed at step %lld of 60: failure reported after %.2f s, the update trained after %.2f s\n",
              (long long)failed.value("train_step", int64_t(-1)), reported, since_kill());
  EXPECT_NE(rank_pid(), first);
  EXPECT_EQ(daemon.query("status")["daemon"]["trainers"]["ranks"]["processes"][0]["starts"], 2);
  EXPECT_NE(daemon.log().find("update failed, retried from the stored state"), std::string::npos);
  expect_trained_as(uninterrupted, daemon, "resumed after the kill, against the uninterrupted run");
}

// A daemon asked to stop in the middle of a budget spread over ranks stops
// every rank after the current step (the ranks agree on it each step), as
// it does alone, instead of waiting out a long budget.
TEST(TrainerRanksDaemon, ADaemonStoppedMidBudgetStopsItsRanksAfterTheCurrentStep) {
  const PlantedDictionary p = fixture();
  testing::TempDir dir;
  const std::string config = dir.sub("long.toml");
  std::string long_budget = kConfig;
  long_budget.replace(long_budget.find("steps_per_update = 60"), 21, "steps_per_update = 100000");
  std::ofstream(config) << long_budget;
  // Two snapshots taken in with the short budget, then the long one.
  DaemonProcess daemon = start_daemon(dir, 2);
  daemon.start();
  testing::publish_planted_snapshot(daemon, "planted", p, 0);
  testing::wait_for_crosscoder(daemon, "planted", 1);
  testing::publish_planted_snapshot(daemon, "planted", p, 1);
  testing::wait_for_crosscoder(daemon, "planted", 2);
  ASSERT_EQ(daemon.terminate(), 0);
  daemon.set_extra_args(
      {"--config", config, "--crosscoder-priority", "normal", "--trainer-ranks", "2", "--log-level", "info"});
  daemon.start();
  testing::publish_planted_snapshot(daemon, "planted", p, 2);
  // Three heads over two ranks: the update that took in the third snapshot.
  testing::wait_for_worker(
      daemon, "planted", std::chrono::seconds(120), std::chrono::milliseconds(20),
      [](const nlohmann::json& worker) {
        return worker.value("state", "") == "training" && worker.value("snapshots", int64_t(0)) == 3 &&
               worker.value("train_step", int64_t(0)) >= 20;
      },
      "train 20 steps of the update over three heads");
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.terminate(std::chrono::seconds(20)), 0) << daemon.log();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  std::printf("stopped mid-budget over 2 ranks in %.2f s\n", seconds);
  EXPECT_LT(seconds, 10.0);  // the budget alone is minutes
  EXPECT_NE(daemon.log().find("update interrupted"), std::string::npos) << daemon.log();
}

// A rank started by hand with a --store that is not host:port is refused
// at once, by the same words the daemon's settings get (observe/host_port.h),
// before it waits for any daemon.
TEST(TrainerRanksDaemon, ARankWhoseStoreIsNotHostPortExitsTwoSayingWhy) {
  for (const std::string store : {"29500", "[::1:29500", "127.0.0.1:0"}) {
    const auto result = testing::run_command(std::string(CW_TRAINER_PATH) +
                                             " --rank 1 --world-size 2 --timeout-seconds 1 --store '" + store + "' 2>&1");
    EXPECT_EQ(result.status, 2) << result.out;
    EXPECT_NE(result.out.find("conceptwatch-trainer: --store \"" + store + "\": "), std::string::npos) << result.out;
  }
}

}  // namespace
}  // namespace cw
