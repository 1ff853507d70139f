// The Prometheus text writer (observe/prometheus_text.h) and the daemon's
// metrics page (observe/daemon_metrics.h) read back by the strict parser,
// and the parser itself refusing what a scraper would refuse.
#include <gtest/gtest.h>

#include <cmath>

#include "alerts/event_alerts.h"
#include "observe/daemon_metrics.h"
#include "observe/histogram.h"
#include "observe/prometheus_text.h"
#include "tests/observe/prometheus_text_parser.h"

namespace cw {
namespace {

using testing::parse_prometheus_text;
using testing::sample_value;

TEST(PrometheusText, EscapesLabelValuesAndReadsBack) {
  PrometheusText out;
  out.family("cw_things_total", MetricType::kCounter, "Things, with a \\ and a\nnewline.");
  const std::string hostile = "run \"q\" \\ back\nslash";
  out.sample({{"run", hostile}}, 3);
  out.family("cw_level", MetricType::kGauge, "A level.");
  out.sample({}, 0.05);
  out.sample({{"tap", "a"}}, NAN);
  const auto families = parse_prometheus_text(out.text());
  EXPECT_EQ(sample_value(families, "cw_things_total", {{"run", hostile}}), 3);
  EXPECT_EQ(sample_value(families, "cw_level", {}, ""), 0.05) << out.text();
  EXPECT_NE(out.text().find("cw_level 0.05\n"), std::string::npos) << out.text();
  EXPECT_TRUE(std::isnan(sample_value(families, "cw_level", {{"tap", "a"}})));
}

TEST(PrometheusText, RefusesWhatAScraperWould) {
  PrometheusText out;
  EXPECT_THROW(out.family("cw_things", MetricType::kCounter, "no _total"), std::invalid_argument);
  EXPECT_THROW(out.family("9lives", MetricType::kGauge, "bad name"), std::invalid_argument);
  EXPECT_THROW(out.sample({}, 1), std::invalid_argument);  // no family yet
  out.family("cw_ok", MetricType::kGauge, "ok");
  EXPECT_THROW(out.sample({{"bad-label", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(out.sample({{"__reserved", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(out.family("cw_ok", MetricType::kGauge, "twice"), std::invalid_argument);
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInf) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0}) h.observe(v);
  const auto json = h.to_json();
  EXPECT_EQ(json["cumulative"], nlohmann::json({2, 3, 4, 5}));
  PrometheusText out;
  out.family("cw_update_seconds", MetricType::kHistogram, "Durations.");
  out.histogram({{"tap", "t"}}, {0.1, 1, 10}, json["cumulative"].get<std::vector<uint64_t>>(), json["sum"], json["count"]);
  const auto families = parse_prometheus_text(out.text());
  EXPECT_EQ(sample_value(families, "cw_update_seconds", {{"tap", "t"}, {"le", "0.1"}}, "cw_update_seconds_bucket"), 2);
  EXPECT_EQ(sample_value(families, "cw_update_seconds", {{"tap", "t"}, {"le", "+Inf"}}, "cw_update_seconds_bucket"), 5);
  EXPECT_DOUBLE_EQ(sample_value(families, "cw_update_seconds", {{"tap", "t"}}, "cw_update_seconds_sum"), 22.65);
  EXPECT_EQ(sample_value(families, "cw_update_seconds", {{"tap", "t"}}, "cw_update_seconds_count"), 5);
}

TEST(PrometheusTextParser, RefusesSloppyText) {
  const char* bad[] = {
      "cw_x 1\n",                                                          // no HELP/TYPE
      "# TYPE cw_x gauge\ncw_x 1\n",                                       // no HELP
      "# HELP cw_x h\n# TYPE cw_x counter\ncw_x 1\n",                      // counter not *_total
      "# HELP cw_x h\n# TYPE cw_x gauge\ncw_x{a=\"1\\t\"} 1\n",            // bad escape
      "# HELP cw_x h\n# TYPE cw_x gauge\ncw_x{a=\"1\"} 1\ncw_x{a=\"1\"} 2\n",  // repeated series
      "# HELP cw_x h\n# TYPE cw_x gauge\ncw_x one\n",                      // not a number
      "# HELP cw_x h\n# TYPE cw_x gauge\n# HELP cw_y h\n# TYPE cw_y gauge\ncw_x 1\n",  // outside its block
      "# HELP cw_h h\n# TYPE cw_h histogram\ncw_h_bucket{le=\"1\"} 2\ncw_h_bucket{le=\"+Inf\"} 1\ncw_h_sum 1\n"
      "cw_h_count 1\n",                                                    // not cumulative
      "# HELP cw_h h\n# TYPE cw_h histogram\ncw_h_bucket{le=\"1\"} 1\ncw_h_sum 1\ncw_h_count 1\n",  // no +Inf
      "# HELP cw_x h\n# TYPE cw_x gauge\ncw_x 1",                          // no final newline
  };
  for (const char* text : bad) EXPECT_THROW(parse_prometheus_text(text), std::runtime_error) << text;
}

// Every family is declared even when the daemon has nothing to put in it
// (status read with the daemon down, no crosscoders, no alerts).
TEST(DaemonMetrics, AStatusWithoutADaemonStillParses) {
  const nlohmann::json status = {{"daemon", {{"up", false}}}, {"runs", nlohmann::json::array()},
                                 {"snapshots_stored", 0}, {"disk_bytes", 1234}};
  const auto families = parse_prometheus_text(daemon_metrics_text(status));
  EXPECT_EQ(sample_value(families, "conceptwatch_store_disk_bytes"), 1234);
  EXPECT_TRUE(families.at("conceptwatch_ingest_bytes_total").samples.empty());
  EXPECT_TRUE(families.at("conceptwatch_crosscoder_update_seconds").samples.empty());
}

}  // namespace
}  // namespace cw

namespace cw {
namespace {

// A phase transition raised through the daemon's alert book shows up as
// conceptwatch_alerts_firing{alertname="PhaseTransition",run,tap} 1, and
// goes when it resolves: what deploy/prometheus/conceptwatch-rules.yml reads.
TEST(DaemonMetrics, FiringAlertsByNameRunAndTap) {
  EventAlerts alerts(AlertsConfig{});
  const nlohmann::json raised = {{"type", "phase_transition"}, {"run", "r"},         {"tap", "t"},
                                 {"transition", 1},            {"onset_step", 400}, {"alarm_step", 440},
                                 {"series", nlohmann::json::array()}};
  alerts.on_event(raised);
  const auto render = [&alerts] {
    return testing::parse_prometheus_text(daemon_metrics_text({{"daemon", {{"up", true}, {"alerts", alerts.status()}}}}));
  };
  const std::map<std::string, std::string> labels = {{"alertname", "PhaseTransition"}, {"run", "r"}, {"tap", "t"}};
  EXPECT_EQ(testing::sample_value(render(), "conceptwatch_alerts_firing", labels), 1);
  // A feature series joining it updates the firing alert, not a second one.
  nlohmann::json joined = raised;
  joined["type"] = "phase_transition_features";
  alerts.on_event(joined);
  EXPECT_EQ(testing::sample_value(render(), "conceptwatch_alerts_firing", labels), 1);
  nlohmann::json resolved = raised;
  resolved["type"] = "phase_transition_resolved";
  alerts.on_event(resolved);
  EXPECT_TRUE(render().at("conceptwatch_alerts_firing").samples.empty());
  // ... and one that comes after it resolved does not fire it again.
  alerts.on_event(joined);
  EXPECT_TRUE(render().at("conceptwatch_alerts_firing").samples.empty());
}

}  // namespace
}  // namespace cw
