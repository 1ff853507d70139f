#include "alerts/alert.h"

#include <gtest/gtest.h>

#include "alerts/alertmanager_payload.h"

namespace cw {
namespace {

Alert sample_alert() {
  Alert alert;
  alert.labels = {{"alertname", "FeatureEmerged"}, {"run", "r1"}, {"tap", "blocks.6"},
                  {"detector", "emergence"}, {"severity", "info"}};
  alert.annotations = {{"summary", "feature 17 emerged"}, {"onset_step", "1000"}};
  alert.starts_at = parse_rfc3339("2026-01-02T03:04:05.678Z");
  alert.generator_url = "http://localhost:7784/runs/r1";
  return alert;
}

TEST(Alert, FingerprintIsPrometheusLabelSetHash) {
  // Expected values computed independently (FNV-1a 64 over sorted
  // name\xff value\xff), as Prometheus' LabelSet.Fingerprint does.
  EXPECT_EQ(sample_alert().fingerprint(), "ce07be9bc4e5fd22");
  EXPECT_EQ(alert_fingerprint({}), "cbf29ce484222325");
  AlertLabels other = sample_alert().labels;
  other["tap"] = "blocks.7";
  EXPECT_NE(alert_fingerprint(other), sample_alert().fingerprint());
}

TEST(Alert, Rfc3339RoundTripsAndAcceptsOffsets) {
  AlertTime t = parse_rfc3339("2026-01-02T03:04:05.678Z");
  EXPECT_EQ(format_rfc3339(t), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(format_rfc3339(parse_rfc3339("2026-01-02T05:04:05.678123+02:00")), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(format_rfc3339(parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00.000Z");
  EXPECT_THROW(parse_rfc3339("2026-01-02 03:04"), std::invalid_argument);
  EXPECT_THROW(parse_rfc3339("2026-01-02T03:04:05"), std::invalid_argument);
  EXPECT_THROW(parse_rfc3339("2026-01-02T03:04:05Zjunk"), std::invalid_argument);
}

TEST(Alert, JsonLinesShapeRoundTrips) {
  Alert alert = sample_alert();
  nlohmann::json json = alert_to_json(alert);
  EXPECT_EQ(json["status"], "firing");
  EXPECT_EQ(json["labels"]["alertname"], "FeatureEmerged");
  EXPECT_EQ(json["annotations"]["onset_step"], "1000");
  EXPECT_EQ(json["startsAt"], "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(json["endsAt"], "0001-01-01T00:00:00Z");  // Alertmanager's unset time
  EXPECT_EQ(json["fingerprint"], "ce07be9bc4e5fd22");

  alert.status = AlertStatus::kResolved;
  alert.ends_at = parse_rfc3339("2026-01-02T04:00:00Z");
  Alert back = alert_from_json(nlohmann::json::parse(alert_to_json(alert).dump()));
  EXPECT_EQ(back.labels, alert.labels);
  EXPECT_EQ(back.annotations, alert.annotations);
  EXPECT_EQ(back.status, AlertStatus::kResolved);
  EXPECT_EQ(back.starts_at, alert.starts_at);
  ASSERT_TRUE(back.ends_at.has_value());
  EXPECT_EQ(*back.ends_at, *alert.ends_at);
  EXPECT_EQ(back.generator_url, alert.generator_url);
  EXPECT_FALSE(alert_from_json(alert_to_json(sample_alert())).ends_at.has_value());
  EXPECT_THROW(alert_from_json(nlohmann::json{{"status", "maybe"}}), std::invalid_argument);
}

TEST(Alert, ValidateNamesTheMissingLabel) {
  Alert alert = sample_alert();
  EXPECT_NO_THROW(validate_alert(alert));
  alert.labels.erase("detector");
  try {
    validate_alert(alert);
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("detector"), std::string::npos);
  }
}

TEST(AlertmanagerPayload, HasTheVersion4Shape) {
  Alert alert = sample_alert();
  nlohmann::json payload = alertmanager_payload({alert}, "conceptwatch", "http://cw:7784");
  for (const char* field : {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                            "commonLabels", "commonAnnotations", "externalURL", "alerts"})
    EXPECT_TRUE(payload.contains(field)) << field;
  EXPECT_EQ(payload["version"], "4");
  EXPECT_EQ(payload["truncatedAlerts"], 0);
  EXPECT_EQ(payload["status"], "firing");
  EXPECT_EQ(payload["receiver"], "conceptwatch");
  EXPECT_EQ(payload["externalURL"], "http://cw:7784");
  EXPECT_EQ(payload["commonLabels"]["tap"], "blocks.6");
  EXPECT_EQ(payload["groupLabels"], payload["commonLabels"]);
  EXPECT_EQ(payload["groupKey"],
            "{}:{alertname=\"FeatureEmerged\", detector=\"emergence\", run=\"r1\", severity=\"info\", "
            "tap=\"blocks.6\"}");
  ASSERT_EQ(payload["alerts"].size(), 1u);
  EXPECT_EQ(payload["alerts"][0], alert_to_json(alert));

  Alert resolved = sample_alert();
  resolved.status = AlertStatus::kResolved;
  resolved.labels["tap"] = "blocks.7";
  resolved.annotations["onset_step"] = "2000";
  nlohmann::json two = alertmanager_payload({alert, resolved}, "r", "");
  EXPECT_EQ(two["status"], "firing");  // firing while any alert fires
  EXPECT_FALSE(two["commonLabels"].contains("tap"));
  EXPECT_EQ(two["commonLabels"]["run"], "r1");
  EXPECT_FALSE(two["commonAnnotations"].contains("onset_step"));
  EXPECT_EQ(alertmanager_payload({resolved}, "r", "")["status"], "resolved");
}

}  // namespace
}  // namespace cw
