// Refinement while idle, through the real daemon: after the update that
// takes in a tap's newest snapshot, a daemon that sees no snapshot for
// refine_after_idle_seconds trains that crosscoder refine_steps more steps
// (no new head, no recruitment) and saves it as an update does; one that
// is not idle that long, or has refine_steps = 0, leaves it as it was; a
// restarted one trains what was left, no more.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"

namespace cw {
namespace {

using testing::DaemonProcess;

// The recovery fixture's settings (tests/analysis/planted_stream.h) with a
// short update, so that the crosscoder is far from trained when the stream
// ends (what a daemon trailing a fast job is left with).
std::string crosscoder_section(const std::string& refinement) {
  return "n_features = 64\nbatch_size = 256\nsteps_per_update = 50\nlr = 0.003\nsparsity_lambda = 0.02\n"
         "seed = 2\nthreads = 1\n" + refinement;
}

// Steps of the "refined over ..." lines in the daemon's log after the
// update that took the crosscoder to `snapshots` heads, summed (a slow
// machine may have refined between earlier snapshots too).
int64_t refined_steps_logged(const std::string& log, int64_t snapshots) {
  const std::size_t update = log.rfind("(now " + std::to_string(snapshots) + ")");
  if (update == std::string::npos) return -1;
  static const std::regex line("refined over \\d+ snapshots, \\d+ joined, (\\d+) steps");
  int64_t steps = 0;
  for (auto it = std::sregex_iterator(log.begin() + std::ptrdiff_t(update), log.end(), line);
       it != std::sregex_iterator(); ++it)
    steps += std::stoll((*it)[1]);
  return steps;
}

// The newest snapshot's reconstruction error, from the worker's status.
double newest_mse(const DaemonProcess& daemon) {
  return testing::worker_status(daemon, "planted")["latest"]["mse"].get<double>();
}

TEST(DaemonRefinement, AnIdleDaemonTrainsItsCrosscoderOnAndSavesIt) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots;
  testing::TempDir config_dir;
  const std::string config = testing::write_crosscoder_config(
      config_dir, crosscoder_section("refine_steps = 300\nrefine_after_idle_seconds = 1\n"));
  DaemonProcess daemon({"--config", config, "--log-level", "info"});
  daemon.start();
  // All but the last snapshot, one after the other as a slow job's would arrive.
  for (int64_t t = 0; t + 1 < T; ++t) {
    testing::publish_planted_snapshot(daemon, "planted", p, t);
    testing::wait_for_crosscoder(daemon, "planted", t + 1);
  }
  const double before = newest_mse(daemon);

  // 300 steps in shares of one update's 50: one turn of five shares, then one more.
  testing::wait_for_refinement(daemon, "planted", std::chrono::minutes(3));
  nlohmann::json worker = testing::worker_status(daemon, "planted");
  EXPECT_EQ(worker["snapshots"], T - 1) << "refinement adds no head";
  EXPECT_TRUE(worker["last_update"]["refinement"].get<bool>()) << worker.dump();
  EXPECT_TRUE(worker["last_update"]["new_steps"].empty()) << worker.dump();
  EXPECT_EQ(worker["last_update"]["recruited"], 0) << worker.dump();
  EXPECT_EQ(refined_steps_logged(daemon.log(), T - 1), 300) << daemon.log();
  // Saved: what the queries and a restart read is the refined crosscoder.
  const double after = newest_mse(daemon);
  std::printf("newest snapshot's mse: %.5f after the stream, %.5f refined\n", before, after);
  EXPECT_LT(after, 0.9 * before);
  const nlohmann::json metrics = daemon.query("crosscoder", {{"run", "planted"}})["snapshots"];
  ASSERT_EQ(metrics.size(), std::size_t(T - 1));
  EXPECT_NEAR(metrics.back()["mse"].get<double>(), after, 1e-9);
  EXPECT_EQ(daemon.query("status")["daemon"]["crosscoder_summary"]["refine_steps_left"], 0);

  // The next snapshot is taken in by an update, which grants the refinement again.
  testing::publish_planted_snapshot(daemon, "planted", p, T - 1);
  testing::wait_for_crosscoder(daemon, "planted", T);
  worker = testing::worker_status(daemon, "planted");
  EXPECT_FALSE(worker["last_update"]["refinement"].get<bool>()) << worker.dump();
  EXPECT_EQ(worker["last_update"]["new_steps"].size(), 1u) << worker.dump();
  EXPECT_GT(worker.value("refine_steps_left", int64_t(0)), 0) << worker.dump();
}

TEST(DaemonRefinement, ARestartedDaemonGoesOnWithWhatIsLeftAndNoMore) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots;
  // The newest snapshot's error as saved (what a restarted daemon serves).
  auto saved_mse = [](const DaemonProcess& daemon) {
    return daemon.query("crosscoder", {{"run", "planted"}})["snapshots"].back()["mse"].get<double>();
  };
  testing::TempDir config_dir;
  const std::string waits = testing::write_crosscoder_config(
      config_dir, crosscoder_section("refine_steps = 300\nrefine_after_idle_seconds = 3600\n"));
  DaemonProcess daemon({"--config", waits, "--log-level", "info"});
  daemon.start();
  testing::stream_planted(daemon, "planted", p);
  const double streamed = saved_mse(daemon);
  ASSERT_EQ(daemon.terminate(), 0);

  // Restarted, idle after a second: the 300 steps the last update granted
  // are trained (none had been when it stopped).
  testing::TempDir soon_dir;
  const std::string soon = testing::write_crosscoder_config(
      soon_dir, crosscoder_section("refine_steps = 300\nrefine_after_idle_seconds = 1\n"));
  daemon.set_extra_args({"--config", soon, "--log-level", "info"});
  daemon.start();
  testing::wait_for_crosscoder(daemon, "planted", T);  // resumed: the budget is known from here on
  testing::wait_for_refinement(daemon, "planted", std::chrono::minutes(3));
  const nlohmann::json worker = testing::worker_status(daemon, "planted");
  EXPECT_TRUE(worker["last_update"]["refinement"].get<bool>()) << worker.dump();
  EXPECT_EQ(worker["snapshots"], T);
  const double refined = saved_mse(daemon);
  EXPECT_LT(refined, 0.9 * streamed);
  EXPECT_EQ(refined_steps_logged(daemon.log(), T), 300) << daemon.log();
  ASSERT_EQ(daemon.terminate(), 0);

  // Restarted again: nothing is left, so nothing more is trained.
  daemon.start();
  testing::wait_for_crosscoder(daemon, "planted", T);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // idle past refine_after_idle_seconds; the timer looks each second
  EXPECT_EQ(testing::worker_status(daemon, "planted").value("refine_steps_left", int64_t(-1)), 0);
  EXPECT_EQ(saved_mse(daemon), refined);
  EXPECT_EQ(refined_steps_logged(daemon.log(), T), 300) << daemon.log();
}

TEST(DaemonRefinement, NotBeforeTheTapHasBeenIdleLongEnoughNorWhenOff) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots;
  for (const char* refinement : {"refine_steps = 300\nrefine_after_idle_seconds = 3600\n", "refine_steps = 0\n"}) {
    SCOPED_TRACE(refinement);
    testing::TempDir config_dir;
    const std::string config = testing::write_crosscoder_config(config_dir, crosscoder_section(refinement));
    DaemonProcess daemon({"--config", config, "--log-level", "info"});
    daemon.start();
    testing::stream_planted(daemon, "planted", p);
    const double before = newest_mse(daemon);
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the timer looks once a second
    const nlohmann::json worker = testing::worker_status(daemon, "planted");
    EXPECT_EQ(worker["state"], "idle") << worker.dump();
    EXPECT_FALSE(worker["last_update"]["refinement"].get<bool>()) << worker.dump();
    EXPECT_EQ(worker["snapshots"], T);
    EXPECT_EQ(newest_mse(daemon), before);
    EXPECT_EQ(refined_steps_logged(daemon.log(), T), 0) << daemon.log();
    const int64_t left = std::string(refinement).rfind("refine_steps = 0", 0) == 0 ? 0 : 300;
    EXPECT_EQ(worker.value("refine_steps_left", int64_t(-1)), left) << worker.dump();
    EXPECT_EQ(daemon.query("status")["daemon"]["crosscoder_summary"]["refine_steps_left"], left);
  }
}

}  // namespace
}  // namespace cw
