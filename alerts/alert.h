// One alert: what the daemon says happened (a feature emerged, training
// passed a phase transition), keyed by its label set. The fields mirror
// Prometheus Alertmanager's alert so the same value serialises both as our
// JSON-lines record and inside an Alertmanager webhook payload.
#ifndef CW_ALERTS_ALERT_H_
#define CW_ALERTS_ALERT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cw {

using AlertTime = std::chrono::system_clock::time_point;
using AlertLabels = std::map<std::string, std::string>;  // sorted by name

enum class AlertStatus { kFiring, kResolved };

// The labels every alert must carry; together they identify it.
inline constexpr const char* kRequiredAlertLabels[] = {"alertname", "run", "tap", "detector", "severity"};

struct Alert {
  // alertname, run, tap, detector, severity (+ any others; all identify it).
  AlertLabels labels;
  // summary, description, and free keys (onset_step, alarm_step, series...).
  // Not part of the identity: may change while the alert keeps firing.
  std::map<std::string, std::string> annotations;
  AlertStatus status = AlertStatus::kFiring;
  AlertTime starts_at{};
  std::optional<AlertTime> ends_at;  // set once resolved
  std::string generator_url;         // link back to the daemon's view, may be empty

  const std::string& name() const;   // labels["alertname"] (empty if absent)
  // Alertmanager's label-set fingerprint: FNV-1a 64 over the sorted
  // "name\xffvalue\xff" pairs, as 16 lower-case hex digits.
  std::string fingerprint() const;
};

// Throws std::invalid_argument naming the first required label that is
// missing or empty.
void validate_alert(const Alert& alert);

std::string alert_fingerprint(const AlertLabels& labels);
const char* alert_status_name(AlertStatus status);  // "firing" / "resolved"

// RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.250Z"). Alertmanager
// writes an unset time as "0001-01-01T00:00:00Z"; we do the same for a
// missing endsAt.
std::string format_rfc3339(AlertTime time);
// Accepts "Z" or a "+hh:mm" offset and any number of fraction digits; throws
// std::invalid_argument on anything else.
AlertTime parse_rfc3339(const std::string& text);

// Our JSON-lines record, which is also one element of an Alertmanager
// webhook "alerts" array: status, labels, annotations, startsAt, endsAt,
// generatorURL, fingerprint.
nlohmann::json alert_to_json(const Alert& alert);
// Inverse of alert_to_json; throws std::invalid_argument on a bad shape.
Alert alert_from_json(const nlohmann::json& json);

}  // namespace cw

#endif  // CW_ALERTS_ALERT_H_
