// One alert as conceptwatchd raises it, and the two JSON shapes it travels
// in: our JSON-lines record and the Prometheus Alertmanager webhook payload
// (version "4"), so existing Alertmanager receivers accept it unchanged.
#ifndef CW_DAEMON_ALERTING_ALERT_H_
#define CW_DAEMON_ALERTING_ALERT_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw {

using AlertTime = std::chrono::system_clock::time_point;
using AlertLabels = std::map<std::string, std::string>;

enum class AlertStatus { kFiring, kResolved };

struct Alert {
  // Identity: always alertname, run, tap, detector, severity. Two alerts
  // with the same label set are the same alert (see AlertBook).
  AlertLabels labels;
  // Free text and details: summary, description, onset_step, alarm_step,
  // series, ... Not part of the identity.
  std::map<std::string, std::string> annotations;
  AlertStatus status = AlertStatus::kFiring;
  AlertTime starts_at{};
  AlertTime ends_at{};  // epoch (unset) while firing
  std::string generator_url;
};

// The labels every alert must carry.
extern const std::vector<std::string> kRequiredAlertLabels;

// Throws std::invalid_argument naming the first missing required label.
void check_alert_labels(const AlertLabels& labels);

// Stable across processes and versions: 16 lowercase hex digits of a 64-bit
// FNV-1a hash over the sorted (name, value) pairs.
std::string alert_fingerprint(const AlertLabels& labels);

const char* alert_status_name(AlertStatus status);  // "firing" / "resolved"

// RFC 3339 UTC with milliseconds, e.g. "2025-01-02T03:04:05.678Z". An unset
// time (the epoch) is written as Alertmanager does: "0001-01-01T00:00:00Z".
std::string format_rfc3339(AlertTime time);
// Accepts what format_rfc3339 writes (any fraction digits, "Z" only);
// throws std::invalid_argument otherwise.
AlertTime parse_rfc3339(const std::string& text);

// Our JSON-lines record: {status, labels, annotations, startsAt, endsAt,
// generatorURL, fingerprint}. One object per line in the JSON-lines sink,
// the second frame on the ZeroMQ PUB sink, and stdin of the exec sink.
nlohmann::json alert_to_json(const Alert& alert);
// Inverse of alert_to_json (fingerprint is ignored: it is derived).
// Throws std::invalid_argument naming the bad field.
Alert alert_from_json(const nlohmann::json& json);

// Where an Alertmanager payload says it came from.
struct AlertmanagerGroup {
  std::string receiver = "conceptwatch";
  std::string external_url;
};

// The Alertmanager webhook payload (version "4") for a group of alerts:
// groupLabels = {alertname}, commonLabels / commonAnnotations = the pairs
// all alerts share, status = "firing" if any alert still fires.
nlohmann::json alertmanager_payload(const std::vector<Alert>& alerts, const AlertmanagerGroup& group);

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ALERT_H_
