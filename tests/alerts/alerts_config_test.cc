#include "alerts/alerts_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "alerts/sink_factory.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using std::chrono::milliseconds;

std::string error_of(const std::string& toml) {
  AlertsConfig config;
  try {
    parse_alerts_config(toml, "test.toml", &config);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(AlertsConfig, ReadsEverySinkTypeWithDefaultsAndOverrides) {
  AlertsConfig config;
  parse_alerts_config(R"(
[daemon]
data_dir = "/elsewhere"   # other sections are not ours

[alerts]
receiver = "ml-team"
external_url = "http://cw:7784"
shutdown_deadline_ms = 700
queue_capacity = 64
initial_delay_ms = 100
max_delay_ms = 1000
max_attempts = 4

[[alerts.sinks]]
type = "jsonl"
path = "-"

[[alerts.sinks]]
type = "zmq"
name = "live"
endpoint = "tcp://127.0.0.1:7783"
queue_capacity = 8

[[alerts.sinks]]
type = "webhook"
url = "http://127.0.0.1:9093/hook"
connect_timeout_ms = 300
read_timeout_ms = 900
max_attempts = 20

[[alerts.sinks]]
type = "exec"
command = ["/usr/local/bin/page", "--team", "ml"]
timeout_ms = 1500

[[alerts.sinks]]
type = "exec"
command = "notify-send \"$CW_ALERT_NAME\""
shell = true

[[alerts.sinks]]
type = "alertmanager"
url = "http://127.0.0.1:9093"
repost_interval_ms = 30000
)",
                      "test.toml", &config);
  EXPECT_EQ(config.receiver, "ml-team");
  EXPECT_EQ(config.external_url, "http://cw:7784");
  EXPECT_EQ(config.shutdown_deadline, milliseconds(700));
  ASSERT_EQ(config.sinks.size(), 6u);
  EXPECT_EQ(config.sinks[0].type, SinkType::kJsonLines);
  EXPECT_EQ(config.sinks[0].path, "-");
  EXPECT_EQ(config.sinks[0].options.queue_capacity, 64u);
  EXPECT_EQ(config.sinks[0].options.retry.initial_delay, milliseconds(100));
  EXPECT_EQ(config.sinks[0].options.retry.max_delay, milliseconds(1000));
  EXPECT_EQ(config.sinks[0].options.retry.max_attempts, 4);
  EXPECT_EQ(config.sinks[1].type, SinkType::kZmqPub);
  EXPECT_EQ(config.sinks[1].options.name, "live");
  EXPECT_EQ(config.sinks[1].endpoint, "tcp://127.0.0.1:7783");
  EXPECT_EQ(config.sinks[1].options.queue_capacity, 8u);
  EXPECT_EQ(config.sinks[2].type, SinkType::kWebhook);
  EXPECT_EQ(config.sinks[2].webhook.url, "http://127.0.0.1:9093/hook");
  EXPECT_EQ(config.sinks[2].webhook.connect_timeout, milliseconds(300));
  EXPECT_EQ(config.sinks[2].webhook.read_timeout, milliseconds(900));
  EXPECT_EQ(config.sinks[2].options.retry.max_attempts, 20);
  EXPECT_EQ(config.sinks[3].exec.command, (std::vector<std::string>{"/usr/local/bin/page", "--team", "ml"}));
  EXPECT_FALSE(config.sinks[3].exec.shell);
  EXPECT_EQ(config.sinks[3].exec.timeout, milliseconds(1500));
  EXPECT_TRUE(config.sinks[4].exec.shell);
  EXPECT_EQ(config.sinks[4].exec.command.size(), 1u);
  EXPECT_EQ(config.sinks[5].type, SinkType::kAlertmanager);
  EXPECT_EQ(config.sinks[5].alertmanager.url, "http://127.0.0.1:9093");
  EXPECT_EQ(config.sinks[5].alertmanager.repost_interval, milliseconds(30000));
  EXPECT_EQ(config.sinks[5].alertmanager.read_timeout, milliseconds(5000));  // the default
}

TEST(AlertsConfig, MistakesAreNamed) {
  EXPECT_NE(error_of("[alerts]\nqueue_capacty = 3\n").find("queue_capacty: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[[alerts.sinks]]\ntype = \"webhook\"\n").find("#1 url: is required"), std::string::npos);
  EXPECT_NE(error_of("[[alerts.sinks]]\ntype = \"alertmanager\"\nurl = \"http://am\"\nrepost_interval_ms = 0\n")
                .find("repost_interval_ms: must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of("[[alerts.sinks]]\ntype = \"jsonl\"\npath = \"-\"\n[[alerts.sinks]]\ntype = \"pager\"\n")
                .find("#2 type: must be"),
            std::string::npos);
  EXPECT_NE(error_of("[[alerts.sinks]]\ntype = \"exec\"\ncommand = [\"a\", \"b\"]\nshell = true\n").find("single"),
            std::string::npos);
  EXPECT_NE(error_of("[alerts]\nmax_attempts = 0\n").find("at least 1"), std::string::npos);
  EXPECT_NE(error_of("[alerts\n").find("test.toml"), std::string::npos);
  EXPECT_EQ(error_of("[daemon]\nlog_level = \"info\"\n"), "");  // no [alerts]: nothing to do
}

TEST(AlertsConfig, FileBuildsAWorkingDispatcher) {
  testing::TempDir dir;
  std::string log = dir.sub("alerts.jsonl");
  {
    std::ofstream toml(dir.sub("cw.toml"));
    toml << "[[alerts.sinks]]\ntype = \"jsonl\"\npath = \"" << log << "\"\n";
  }
  AlertsConfig config;
  load_alerts_config(dir.sub("cw.toml"), &config);
  auto dispatcher = make_alert_dispatcher(config);
  Alert alert;
  alert.labels = {{"alertname", "PhaseTransition"}, {"run", "r"}, {"tap", "t"}, {"detector", "pelt"},
                  {"severity", "warning"}};
  dispatcher->emit(alert);
  EXPECT_TRUE(dispatcher->shutdown(config.shutdown_deadline));
  EXPECT_EQ(dispatcher->stats()[0].delivered, 1u);
  std::ifstream in(log);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["labels"]["detector"], "pelt");

  AlertsConfig bad;
  bad.sinks.resize(1);
  bad.sinks[0].type = SinkType::kJsonLines;
  bad.sinks[0].path = dir.sub("no/such/dir/a.jsonl");
  EXPECT_THROW(make_alert_dispatcher(bad), std::runtime_error);
}

}  // namespace
}  // namespace cw
