#include "alerts/alert.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace cw {

namespace {

const char kZeroTime[] = "0001-01-01T00:00:00Z";

std::map<std::string, std::string> string_map(const nlohmann::json& json, const char* field) {
  std::map<std::string, std::string> out;
  if (!json.contains(field)) return out;
  const auto& object = json.at(field);
  if (!object.is_object()) throw std::invalid_argument(std::string("alert JSON: \"") + field + "\" must be an object");
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string())
      throw std::invalid_argument(std::string("alert JSON: ") + field + "." + key + " must be a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

std::string string_field(const nlohmann::json& json, const char* field) {
  if (!json.contains(field)) return "";
  if (!json.at(field).is_string())
    throw std::invalid_argument(std::string("alert JSON: \"") + field + "\" must be a string");
  return json.at(field).get<std::string>();
}

}  // namespace

const std::string& Alert::name() const {
  static const std::string kEmpty;
  auto it = labels.find("alertname");
  return it == labels.end() ? kEmpty : it->second;
}

std::string Alert::fingerprint() const { return alert_fingerprint(labels); }

void validate_alert(const Alert& alert) {
  for (const char* label : kRequiredAlertLabels) {
    auto it = alert.labels.find(label);
    if (it == alert.labels.end() || it->second.empty())
      throw std::invalid_argument(std::string("alert lacks the required label \"") + label + "\"");
  }
}

std::string alert_fingerprint(const AlertLabels& labels) {
  // Same algorithm as Prometheus' LabelSet.Fingerprint, so receivers that
  // key on it see the values Alertmanager would send.
  uint64_t hash = 14695981039346656037ull;
  auto add = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (const auto& [name, value] : labels) {
    for (unsigned char c : name) add(c);
    add(0xff);
    for (unsigned char c : value) add(c);
    add(0xff);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

const char* alert_status_name(AlertStatus status) {
  return status == AlertStatus::kFiring ? "firing" : "resolved";
}

std::string format_rfc3339(AlertTime time) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int millis = static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];  // room for any int the compiler imagines
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return text;
}

AlertTime parse_rfc3339(const std::string& text) {
  auto bad = [&text]() { return std::invalid_argument("not an RFC 3339 time: \"" + text + "\""); };
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    throw bad();
  size_t pos = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    int64_t scale = 100000000;
    ++pos;
    if (pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[pos]))) throw bad();
    for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos, scale /= 10)
      nanos += (text[pos] - '0') * scale;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hours = 0, minutes = 0, used = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d%n", &hours, &minutes, &used) != 2 || used != 5) throw bad();
    offset_minutes = (text[pos] == '+' ? 1 : -1) * (hours * 60 + minutes);
    pos += 6;
  } else {
    throw bad();
  }
  if (pos != text.size()) throw bad();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t seconds = timegm(&tm) - offset_minutes * 60;
  return AlertTime(std::chrono::duration_cast<AlertTime::duration>(std::chrono::seconds(seconds) +
                                                                   std::chrono::nanoseconds(nanos)));
}

nlohmann::json alert_to_json(const Alert& alert) {
  return {
      {"status", alert_status_name(alert.status)},
      {"labels", alert.labels},
      {"annotations", alert.annotations},
      {"startsAt", format_rfc3339(alert.starts_at)},
      {"endsAt", alert.ends_at ? format_rfc3339(*alert.ends_at) : kZeroTime},
      {"generatorURL", alert.generator_url},
      {"fingerprint", alert.fingerprint()},
  };
}

Alert alert_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw std::invalid_argument("alert JSON must be an object");
  Alert alert;
  std::string status = string_field(json, "status");
  if (status == "firing")
    alert.status = AlertStatus::kFiring;
  else if (status == "resolved")
    alert.status = AlertStatus::kResolved;
  else
    throw std::invalid_argument("alert JSON: status must be \"firing\" or \"resolved\", got \"" + status + "\"");
  alert.labels = string_map(json, "labels");
  alert.annotations = string_map(json, "annotations");
  alert.starts_at = parse_rfc3339(string_field(json, "startsAt"));
  std::string ends_at = string_field(json, "endsAt");
  if (!ends_at.empty() && ends_at != kZeroTime) alert.ends_at = parse_rfc3339(ends_at);
  alert.generator_url = string_field(json, "generatorURL");
  return alert;
}

}  // namespace cw
