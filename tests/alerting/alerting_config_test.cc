#include "daemon/alerting/alerting_config.h"

#include <gtest/gtest.h>

#include "tests/alerting/alert_test_util.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

AlertingConfig parse(const std::string& text) {
  return alerting_config_from_toml(toml::parse(text), "test.toml");
}

// The message of the error parsing `text` raises.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(AlertingConfig, ReadsEverySinkType) {
  AlertingConfig config = parse(R"(
[alerts]
retry_initial_ms = 100
max_attempts = 4
shutdown_deadline_ms = 1500

[[alerts.sink]]
type = "webhook"
url = "http://127.0.0.1:9093/api/v1/alerts"
read_timeout_ms = 700
receiver = "team-ml"

[[alerts.sink]]
type = "jsonl"
path = "-"
max_attempts = 2

[[alerts.sink]]
type = "zmq"
endpoint = "tcp://127.0.0.1:7783"

[[alerts.sink]]
type = "exec"
command = ["notify-send", "x"]
timeout_ms = 3000
)");
  EXPECT_EQ(config.shutdown_deadline, std::chrono::milliseconds(1500));
  ASSERT_EQ(config.sinks.size(), 4u);
  EXPECT_EQ(config.sinks[0].type, AlertSinkType::kWebhook);
  EXPECT_EQ(config.sinks[0].webhook.url, "http://127.0.0.1:9093/api/v1/alerts");
  EXPECT_EQ(config.sinks[0].webhook.read_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(config.sinks[0].webhook.group.receiver, "team-ml");
  EXPECT_EQ(config.sinks[0].delivery.initial_backoff, std::chrono::milliseconds(100));
  EXPECT_EQ(config.sinks[0].delivery.max_attempts, 4u);
  EXPECT_EQ(config.sinks[1].type, AlertSinkType::kJsonl);
  EXPECT_EQ(config.sinks[1].path, "-");
  EXPECT_EQ(config.sinks[1].delivery.max_attempts, 2u);  // per-sink override
  EXPECT_EQ(config.sinks[2].type, AlertSinkType::kZmq);
  EXPECT_EQ(config.sinks[2].endpoint, "tcp://127.0.0.1:7783");
  EXPECT_EQ(config.sinks[3].type, AlertSinkType::kExec);
  EXPECT_EQ(config.sinks[3].exec.argv, (std::vector<std::string>{"notify-send", "x"}));
  EXPECT_EQ(config.sinks[3].exec.timeout, std::chrono::milliseconds(3000));
}

TEST(AlertingConfig, NoAlertsTableMeansNoSinks) {
  EXPECT_TRUE(parse("[daemon]\ndata_dir = \"/tmp/x\"\n").sinks.empty());
}

TEST(AlertingConfig, ErrorsNameTheBadKey) {
  std::string typo = error_of("[[alerts.sink]]\ntype = \"webhook\"\nurl = \"http://h/\"\nulr = \"x\"\n");
  EXPECT_NE(typo.find("test.toml line 4"), std::string::npos) << typo;
  EXPECT_NE(typo.find("[[alerts.sink]] #1"), std::string::npos) << typo;
  EXPECT_NE(typo.find("unknown key 'ulr'"), std::string::npos) << typo;
  EXPECT_NE(error_of("[[alerts.sink]]\ntype = \"pager\"\n").find("'type' must be one of"), std::string::npos);
  EXPECT_NE(error_of("[[alerts.sink]]\ntype = \"webhook\"\n").find("missing 'url'"), std::string::npos);
  EXPECT_NE(error_of("[[alerts.sink]]\ntype = \"exec\"\ncommand = \"notify-send x\"\n").find("'command' must be"),
            std::string::npos);
  EXPECT_NE(error_of("[[alerts.sink]]\ntype = \"exec\"\ncommand = [\"a\", 1]\n").find("only strings"),
            std::string::npos);
  EXPECT_NE(error_of("[alerts]\nmax_attempts = 0\n").find("'max_attempts' must be a positive integer"),
            std::string::npos);
  EXPECT_NE(error_of("[alerts]\nretry_initial_ms = 50\nretry_max_ms = 10\n").find("retry_max_ms"), std::string::npos);
  EXPECT_NE(error_of("[alerts]\nsinks = 1\n").find("unknown key 'sinks'"), std::string::npos);
  EXPECT_NE(error_of("[alerts.sink]\ntype = \"jsonl\"\n").find("write [[alerts.sink]]"), std::string::npos);
}

TEST(AlertingConfig, BuildsAWorkingDispatcher) {
  testing::TempDir dir;
  AlertingConfig config = parse("[[alerts.sink]]\ntype = \"jsonl\"\npath = \"" + dir.sub("a.jsonl") +
                                "\"\n[[alerts.sink]]\ntype = \"zmq\"\nendpoint = \"tcp://127.0.0.1:*\"\n");
  auto dispatcher = build_alert_dispatcher(config);
  dispatcher->emit(testing::make_alert());
  EXPECT_TRUE(dispatcher->shutdown(std::chrono::seconds(20)));
  auto stats = dispatcher->stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].sink, "jsonl " + dir.sub("a.jsonl"));
  EXPECT_EQ(stats[0].delivered, 1u);
  EXPECT_EQ(stats[1].sink.rfind("zmq tcp://127.0.0.1:", 0), 0u);
  EXPECT_EQ(stats[1].delivered, 1u);  // PUB without subscribers still "delivers"

  config.sinks[0].path = dir.sub("missing/a.jsonl");
  EXPECT_THROW(build_alert_dispatcher(config), std::runtime_error);
}

}  // namespace
}  // namespace cw
