// The alertmanager sink against Debian's real prometheus-alertmanager: a
// phase transition raised by the real conceptwatchd (a job scalar "loss"
// that drops by 2 nats, streamed over the wire with planted snapshots)
// appears in Alertmanager's /api/v2/alerts with its run and tap as labels,
// and leaves it once the transition resolves (resolve_after quiet
// snapshots). Skipped where the package is not installed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/analysis/planted_stream.h"

extern char** environ;

namespace cw {
namespace {

using std::chrono::milliseconds;
using testing::DaemonProcess;

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

// Alertmanager on 127.0.0.1 with a do-nothing route, its own storage, no
// clustering; killed with its directory.
class AlertmanagerProcess {
 public:
  AlertmanagerProcess() : port_(testing::free_port()) {
    std::ofstream(dir_.sub("alertmanager.yml")) << "route:\n  receiver: none\nreceivers:\n  - name: none\n";
    const std::vector<std::string> args = {kAlertmanager,
                                           "--config.file=" + dir_.sub("alertmanager.yml"),
                                           "--storage.path=" + dir_.sub("data"),
                                           "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                           "--cluster.listen-address="};
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, dir_.sub("log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, kAlertmanager, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + std::string(kAlertmanager));
  }
  ~AlertmanagerProcess() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::stringstream text;
    text << std::ifstream(dir_.sub("log")).rdbuf();
    return text.str();
  }
  // GET `path`, or nullopt while it does not answer 200.
  std::optional<std::string> get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(milliseconds(500));
    client.set_read_timeout(milliseconds(2000));
    auto response = client.Get(path.c_str());
    if (!response || response->status != 200) return std::nullopt;
    return response->body;
  }
  // The PhaseTransition alerts it holds now (unresolved) labelled run =
  // `run` (the loss may also move the run's TrainingPhase label).
  nlohmann::json transitions_of(const std::string& run) const {
    nlohmann::json out = nlohmann::json::array();
    const auto body = get("/api/v2/alerts");
    if (!body) throw std::runtime_error("GET /api/v2/alerts failed; alertmanager log:\n" + log());
    for (const auto& alert : nlohmann::json::parse(*body))
      if (alert["labels"].value("run", "") == run && alert["labels"].value("alertname", "") == "PhaseTransition")
        out.push_back(alert);
    return out;
  }

 private:
  testing::TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

template <typename Predicate>
bool within(milliseconds timeout, Predicate done) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

TEST(AlertmanagerDaemon, APhaseTransitionFiresAndResolvesInARealAlertmanager) {
  if (::access(kAlertmanager, X_OK) != 0)
    GTEST_SKIP() << kAlertmanager << " not installed (apt-get install prometheus-alertmanager)";
  AlertmanagerProcess alertmanager;

  // Only the job's loss is watched (no crosscoder series), so the
  // transition is raised as its snapshot arrives; it resolves after two
  // quiet snapshots. Re-posted every 2 s while it fires, each post valid for
  // 8 s: it can leave Alertmanager within 3 s of the stream's end only by
  // the sink's resolving post, not by expiring.
  testing::TempDir dir;
  const std::string config = testing::write_crosscoder_config(
      dir, "n_features = 32\nbatch_size = 128\nsteps_per_update = 20\nseed = 1\nthreads = 1\n");
  std::ofstream(config, std::ios::app) << "[transitions]\nseries = []\nscalars = [\"loss\"]\nresolve_after = 2\n"
                                       << "[alerts]\n[[alerts.sinks]]\ntype = \"alertmanager\"\nurl = \""
                                       << alertmanager.url() << "\"\nrepost_interval_ms = 2000\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  ASSERT_TRUE(within(milliseconds(10000), [&] { return alertmanager.get("/-/ready").has_value(); }))
      << alertmanager.log();

  PlantedOptions o;
  o.d_model = 16;
  o.n_atoms = 16;
  o.n_snapshots = 16;
  o.n_tokens = 512;
  o.n_fading = 0;
  o.stationary = true;
  constexpr int64_t kDrop = 8;  // the loss falls from 3 to 1 nat here
  std::vector<std::vector<std::pair<std::string, double>>> scalars;
  for (int64_t t = 0; t < o.n_snapshots; ++t)
    scalars.push_back({{"loss", (t < kDrop ? 3.0 : 1.0) + 0.01 * double((t * 7) % 5)}});

  nlohmann::json fired;  // as Alertmanager showed it while the transition fired
  int64_t fired_at = -1;
  bool reposted = false;  // Alertmanager saw it again (its updatedAt moved) while it fired
  testing::stream_planted(daemon, "am-run", make_planted_dictionary(o), scalars, {}, [&](int64_t t) {
    if (fired_at >= 0 || daemon.query("phases", {{"run", "am-run"}})["transitions"].empty()) return;
    // Raised: the stream waits here, so it cannot resolve before we look.
    within(milliseconds(5000), [&] {
      const auto alerts = alertmanager.transitions_of("am-run");
      if (alerts.empty()) return false;
      fired = alerts;
      return true;
    });
    fired_at = t;
    if (fired.size() != 1) return;
    reposted = within(milliseconds(4000), [&] {
      const auto now = alertmanager.transitions_of("am-run");
      return now.size() == 1 && now[0]["updatedAt"] != fired[0]["updatedAt"];
    });
  });
  ASSERT_GE(fired_at, kDrop) << daemon.log();
  ASSERT_EQ(fired.size(), 1u) << "not in Alertmanager while firing: " << fired.dump(1) << "\n" << daemon.log();
  std::printf("raised at snapshot %lld; in Alertmanager as %s\n", (long long)fired_at, fired[0]["labels"].dump().c_str());
  const auto& labels = fired[0]["labels"];
  EXPECT_EQ(labels["alertname"], "PhaseTransition") << fired.dump(1);
  EXPECT_EQ(labels["run"], "am-run");
  EXPECT_EQ(labels["tap"], "resid");
  EXPECT_EQ(labels["severity"], "warning");
  EXPECT_EQ(fired[0]["status"]["state"], "active") << fired.dump(1);
  EXPECT_NE(fired[0]["annotations"].value("summary", "").find("phase transition"), std::string::npos);
  EXPECT_NE(fired[0]["annotations"].value("description", "").find("loss moved"), std::string::npos) << fired.dump(1);

  EXPECT_TRUE(reposted) << "not re-posted while firing";

  // Quiet snapshots followed: resolved, so Alertmanager lists it no more.
  EXPECT_TRUE(within(milliseconds(3000), [&] { return alertmanager.transitions_of("am-run").empty(); }))
      << alertmanager.transitions_of("am-run").dump(1) << "\n" << daemon.log();
  const auto sinks = daemon.query("status")["daemon"]["alerts"]["sinks"];
  ASSERT_EQ(sinks.size(), 1u) << sinks.dump();
  EXPECT_GE(sinks[0]["delivered"].get<int>(), 2) << sinks.dump();  // fired and resolved
  EXPECT_EQ(sinks[0]["dropped"].get<int>(), 0) << sinks.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
