#include "daemon/alerting/alert.h"

#include <gtest/gtest.h>

#include "tests/alerting/alert_test_util.h"

namespace cw {
namespace {

TEST(Alert, FingerprintDependsOnLabelsOnly) {
  Alert a = testing::make_alert();
  Alert b = testing::make_alert();
  b.annotations["summary"] = "something else";
  std::string fingerprint = alert_fingerprint(a.labels);
  EXPECT_EQ(fingerprint.size(), 16u);
  EXPECT_EQ(fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(alert_fingerprint(b.labels), fingerprint);
  b.labels["tap"] = "blocks.0.resid_post";
  EXPECT_NE(alert_fingerprint(b.labels), fingerprint);
  // Name/value boundaries matter.
  EXPECT_NE(alert_fingerprint({{"a", "bc"}}), alert_fingerprint({{"ab", "c"}}));
  // Pinned: the fingerprint must not change between versions (FNV-1a 64 of
  // the empty set is the offset basis mixed with nothing).
  EXPECT_EQ(alert_fingerprint({}), "cbf29ce484222325");
}

TEST(Alert, RequiredLabelsAreChecked) {
  Alert alert = testing::make_alert();
  EXPECT_NO_THROW(check_alert_labels(alert.labels));
  alert.labels.erase("detector");
  try {
    check_alert_labels(alert.labels);
    FAIL() << "missing label accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("detector"), std::string::npos);
  }
}

TEST(Alert, Rfc3339RoundTrip) {
  AlertTime time(std::chrono::milliseconds(1700000000123));
  EXPECT_EQ(format_rfc3339(time), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.123Z"), time);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.123456789Z"),
            AlertTime(std::chrono::duration_cast<AlertTime::duration>(std::chrono::nanoseconds(1700000000123456789))));
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20Z"), AlertTime(std::chrono::seconds(1700000000)));
  EXPECT_EQ(format_rfc3339(AlertTime{}), "0001-01-01T00:00:00Z");
  EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), AlertTime{});
  EXPECT_THROW(parse_rfc3339("2023-11-14 22:13:20Z"), std::invalid_argument);
  EXPECT_THROW(parse_rfc3339("2023-11-14T22:13:20+01:00"), std::invalid_argument);
}

TEST(Alert, JsonLineRoundTrip) {
  Alert alert = testing::make_alert();
  nlohmann::json json = alert_to_json(alert);
  EXPECT_EQ(json["status"], "firing");
  EXPECT_EQ(json["labels"]["alertname"], "FeatureEmerged");
  EXPECT_EQ(json["annotations"]["onset_step"], "412");
  EXPECT_EQ(json["startsAt"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(json["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(json["fingerprint"], alert_fingerprint(alert.labels));
  Alert back = alert_from_json(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(back.labels, alert.labels);
  EXPECT_EQ(back.annotations, alert.annotations);
  EXPECT_EQ(back.starts_at, alert.starts_at);
  EXPECT_EQ(back.ends_at, AlertTime{});
  EXPECT_EQ(back.generator_url, alert.generator_url);
  json["status"] = "pending";
  EXPECT_THROW(alert_from_json(json), std::invalid_argument);
  json.erase("labels");
  EXPECT_THROW(alert_from_json(json), std::invalid_argument);
}

TEST(Alert, AlertmanagerPayloadVersion4) {
  Alert first = testing::make_alert("PhaseTransition", "blocks.0.resid_post");
  Alert second = testing::make_alert("PhaseTransition", "blocks.1.resid_post");
  second.status = AlertStatus::kResolved;
  second.ends_at = second.starts_at + std::chrono::minutes(5);
  second.annotations["summary"] = "different";
  nlohmann::json payload = alertmanager_payload({first, second}, {"team", "http://cw.example"});
  EXPECT_EQ(payload["version"], "4");
  EXPECT_EQ(payload["groupKey"], "{}:{alertname=\"PhaseTransition\"}");
  EXPECT_EQ(payload["truncatedAlerts"], 0);
  EXPECT_EQ(payload["status"], "firing");  // one of them still fires
  EXPECT_EQ(payload["receiver"], "team");
  EXPECT_EQ(payload["externalURL"], "http://cw.example");
  EXPECT_EQ(payload["groupLabels"], (nlohmann::json{{"alertname", "PhaseTransition"}}));
  EXPECT_EQ(payload["commonLabels"].size(), 4u);  // all but tap
  EXPECT_FALSE(payload["commonLabels"].contains("tap"));
  EXPECT_FALSE(payload["commonAnnotations"].contains("summary"));
  EXPECT_EQ(payload["commonAnnotations"]["onset_step"], "412");
  ASSERT_EQ(payload["alerts"].size(), 2u);
  EXPECT_EQ(payload["alerts"][1]["status"], "resolved");
  EXPECT_EQ(payload["alerts"][1]["endsAt"], "2023-11-14T22:18:20.123Z");
  EXPECT_EQ(payload["alerts"][0]["fingerprint"], alert_fingerprint(first.labels));
  EXPECT_EQ(alertmanager_payload({second}, {})["status"], "resolved");
}

}  // namespace
}  // namespace cw
