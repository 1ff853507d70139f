// Exact resume through the real daemon: conceptwatchd is stopped (SIGTERM)
// while an update is training, restarted on the same data directory, and
// must end with the same crosscoder as a run that was never interrupted.
//
// What the design guarantees: an interrupted update is not saved; the
// stored state (weights, Adam moments, schedule position, RNG) is the last
// complete update's, and the snapshot being trained is in the store, so
// the restarted daemon repeats that update from the same state on the same
// data. With one compute thread every operation runs in the same order, so
// the result is the same to the bit; the bound below (1e-6) is there only
// so that a different BLAS build's rounding would not fail it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"
#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/support/safetensors_file.h"

namespace cw {
namespace {

using testing::DaemonProcess;

// The planted daemon test's settings (tests/analysis/planted_daemon_test.cc).
const char* kCrosscoder =
    "n_features = 64\nbatch_size = 256\nsteps_per_update = 600\nlr = 0.003\nsparsity_lambda = 0.02\n"
    "seed = 2\nthreads = 1\n";

constexpr int64_t kInterrupted = 5;  // the snapshot whose update is cut short

struct Result {
  nlohmann::json metrics;                 // per snapshot, from the "crosscoder" query
  std::map<std::string, testing::F32Tensor> weights;  // the export's float tensors
};

Result collect(const DaemonProcess& daemon, const std::string& run) {
  Result r;
  r.metrics = daemon.query("crosscoder", {{"run", run}})["snapshots"];
  const std::string dir = testing::export_crosscoder(daemon, run);
  for (const char* name : {"W_E", "W_D", "b_E", "b_D", "log_threshold", "scales"})
    r.weights[name] = testing::read_f32_safetensor(dir + "/crosscoder.safetensors", name);
  return r;
}

// Waits until the worker reports training on `snapshots` heads at a step
// in [min_step, max_step] of the update (its train_step still holds the
// previous update's last step until the first progress report); false if
// the update ended first.
bool wait_until_training(const DaemonProcess& daemon, const std::string& run, int64_t snapshots, int64_t min_step,
                         int64_t max_step) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto worker = testing::worker_status(daemon, run);
    if (!worker.is_null() && worker.value("snapshots", int64_t(0)) == snapshots) {
      const int64_t step = worker.value("train_step", int64_t(-1));
      if (worker.value("state", "") == "training" && step >= min_step && step <= max_step) return true;
      if (worker.value("state", "") == "idle") return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(DaemonRestart, StopDuringAnUpdateThenRestartEndsWithTheUninterruptedCrosscoder) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots;

  testing::TempDir config_dir;
  const std::string config = testing::write_crosscoder_config(config_dir, kCrosscoder);
  DaemonProcess straight({"--config", config});
  straight.start();
  testing::stream_planted(straight, "planted", p);
  const Result expected = collect(straight, "planted");

  DaemonProcess daemon({"--config", config, "--log-level", "info"});  // info: the interrupted update is logged
  daemon.start();
  for (int64_t t = 0; t < kInterrupted; ++t) {
    testing::publish_planted_snapshot(daemon, "planted", p, t);
    testing::wait_for_crosscoder(daemon, "planted", t + 1);
  }
  testing::publish_planted_snapshot(daemon, "planted", p, kInterrupted);
  ASSERT_TRUE(wait_until_training(daemon, "planted", kInterrupted + 1, 30, 300))
      << "the update finished before it could be interrupted\n" << daemon.log();
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  // The log says how far the cut-short update had got: part of the budget.
  const std::string log = daemon.log();
  const auto at = log.find("update interrupted after ");
  ASSERT_NE(at, std::string::npos) << "no interrupted update in the log:\n" << log;
  const int64_t done = std::stoll(log.substr(at + std::string("update interrupted after ").size()));
  std::printf("interrupted after %lld of 600 steps\n", (long long)done);
  EXPECT_GT(done, 0) << log.substr(at, 200);
  EXPECT_LT(done, 600);

  daemon.start();
  testing::wait_for_crosscoder(daemon, "planted", kInterrupted + 1);
  for (int64_t t = kInterrupted + 1; t < T; ++t) {
    testing::publish_planted_snapshot(daemon, "planted", p, t);
    testing::wait_for_crosscoder(daemon, "planted", t + 1);
  }
  const Result resumed = collect(daemon, "planted");

  ASSERT_EQ(resumed.metrics.size(), std::size_t(T));
  ASSERT_EQ(expected.metrics.size(), std::size_t(T));
  for (int64_t t = 0; t < T; ++t) {
    SCOPED_TRACE("snapshot " + std::to_string(t));
    for (const char* key : {"explained_variance", "l0", "mse", "dead_fraction"})
      EXPECT_NEAR(resumed.metrics[t][key].get<double>(), expected.metrics[t][key].get<double>(), 1e-6) << key;
  }
  for (const auto& [name, want] : expected.weights) {
    const testing::F32Tensor& got = resumed.weights.at(name);
    ASSERT_EQ(got.shape, want.shape) << name;
    double max_diff = 0;
    for (std::size_t i = 0; i < want.values.size(); ++i)
      max_diff = std::max(max_diff, std::fabs(double(got.values[i]) - want.values[i]));
    std::printf("%s: max |resumed - uninterrupted| = %.3g\n", name.c_str(), max_diff);
    EXPECT_LE(max_diff, 1e-6) << name;
  }
}

// A stored state the daemon cannot load (here: not a state at all; in
// practice e.g. one saved with device cuda, read without CUDA) is kept in a
// file beside the store before the worker starts afresh from the stored
// snapshots and overwrites it.
TEST(DaemonRestart, AStateThatWillNotLoadIsKeptAndTheCrosscoderRetrainsFromTheSnapshots) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots;
  testing::TempDir config_dir;
  const std::string config = testing::write_crosscoder_config(config_dir, kCrosscoder);
  DaemonProcess daemon({"--config", config});
  daemon.start();
  testing::stream_planted(daemon, "planted", p);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  const std::string garbage = "not a crosscoder state";
  {
    auto store = Store::open(daemon.data_dir());
    CrosscoderStateTable(*store).put("planted", "resid", garbage);
  }

  daemon.start();
  testing::wait_for_crosscoder(daemon, "planted", T);
  const auto worker = testing::worker_status(daemon, "planted");
  ASSERT_TRUE(worker.contains("unloadable_state")) << worker.dump();
  const std::string kept = worker["unloadable_state"].get<std::string>();
  std::ifstream in(kept, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, garbage) << kept;
  EXPECT_NE(worker.value("resume_error", "").size(), 0u);
  // Retrained on every stored snapshot, and saved again: a third start resumes.
  const auto metrics = daemon.query("crosscoder", {{"run", "planted"}})["snapshots"];
  ASSERT_EQ(metrics.size(), std::size_t(T));
  EXPECT_GT(metrics.back()["explained_variance"].get<double>(), 0.8);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  daemon.start();
  testing::wait_for_crosscoder(daemon, "planted", T);
  EXPECT_FALSE(testing::worker_status(daemon, "planted").contains("resume_error"));
}

}  // namespace
}  // namespace cw
