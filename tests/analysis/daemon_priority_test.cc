// The crosscoder's training thread runs at the configured priority (idle by
// default) and only it: the daemon's ingest and query threads, which ack a
// training job's publisher, stay at normal priority.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/daemon_config.h"
#include "tests/analysis/planted_stream.h"

namespace cw {
namespace {

struct ThreadScheduling {
  std::string name;
  int policy = -1;
  int nice = 0;
};

std::vector<ThreadScheduling> threads_of(pid_t pid) {
  std::vector<ThreadScheduling> threads;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    const pid_t tid = std::stoi(task.path().filename().string());
    ThreadScheduling t;
    std::ifstream(task.path() / "comm") >> t.name;
    t.policy = ::sched_getscheduler(tid);
    errno = 0;
    t.nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    threads.push_back(t);
  }
  return threads;
}

// Starts a daemon with `args`, lets its crosscoder take one snapshot, and
// checks the trainer thread's policy and nice value against every other
// thread's (SCHED_OTHER, nice 0).
void expect_trainer_scheduled(const std::vector<std::string>& args, const std::string& name, int policy, int nice) {
  SCOPED_TRACE(name);
  testing::DaemonProcess daemon(args);
  daemon.start();
  PlantedOptions options = recovery_fixture();
  options.n_snapshots = 1;
  options.n_tokens = 512;
  const auto planted = make_planted_dictionary(options);
  testing::publish_planted_snapshot(daemon, "run", planted, 0);
  testing::wait_for_crosscoder(daemon, "run", 1);
  EXPECT_EQ(testing::worker_status(daemon, "run").value("priority", ""), name);

  int trainers = 0;
  for (const auto& t : threads_of(daemon.pid())) {
    if (t.name == "cw-crosscoder") {
      ++trainers;
      EXPECT_EQ(t.policy, policy);
      EXPECT_EQ(t.nice, nice);
    } else {
      EXPECT_EQ(t.policy, SCHED_OTHER) << t.name;
      EXPECT_EQ(t.nice, 0) << t.name;
    }
  }
  EXPECT_EQ(trainers, 1);
  EXPECT_EQ(daemon.terminate(), 0);
}

TEST(DaemonPriority, TheTrainerAloneRunsAtTheConfiguredPriority) {
  testing::TempDir dir;
  const std::string config = testing::write_crosscoder_config(dir, "n_features = 32\nsteps_per_update = 20\n");
  // The daemon's own default is idle (the test harness asks for normal).
  EXPECT_EQ(default_daemon_config().analysis.priority, TrainerPriority::kIdle);
  expect_trainer_scheduled({"--config", config, "--crosscoder-priority", "idle"}, "idle", SCHED_IDLE, 0);
  expect_trainer_scheduled({"--config", config, "--crosscoder-priority", "low"}, "low", SCHED_OTHER, 19);
  expect_trainer_scheduled({"--config", config, "--crosscoder-priority", "normal"}, "normal", SCHED_OTHER, 0);
}

TEST(DaemonPriority, AnUnknownPriorityIsRefusedNamingTheChoices) {
  testing::TempDir dir;
  const std::string path = dir.sub("bad.toml");
  std::ofstream(path) << "[crosscoder]\npriority = \"background\"\n";
  DaemonConfig config = default_daemon_config();
  try {
    load_daemon_config(path, &config);
    FAIL() << "accepted priority = \"background\"";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[crosscoder] priority: trainer priority 'background': use idle, low or normal"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cw
