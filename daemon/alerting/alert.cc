#include "daemon/alerting/alert.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace cw {

const std::vector<std::string> kRequiredAlertLabels = {"alertname", "run", "tap", "detector", "severity"};

void check_alert_labels(const AlertLabels& labels) {
  for (const std::string& name : kRequiredAlertLabels) {
    auto it = labels.find(name);
    if (it == labels.end() || it->second.empty())
      throw std::invalid_argument("alert is missing the required label '" + name + "'");
  }
}

std::string alert_fingerprint(const AlertLabels& labels) {
  // FNV-1a, 64 bit. A 0xff byte separates names and values: it never occurs
  // in UTF-8, so {"a":"bc"} and {"ab":"c"} hash differently.
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](const std::string& text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
    hash ^= 0xff;
    hash *= 1099511628211ull;
  };
  for (const auto& [name, value] : labels) {  // std::map: already sorted
    mix(name);
    mix(value);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, hash);
  return hex;
}

const char* alert_status_name(AlertStatus status) {
  return status == AlertStatus::kFiring ? "firing" : "resolved";
}

static AlertStatus parse_status(const std::string& text) {
  if (text == "firing") return AlertStatus::kFiring;
  if (text == "resolved") return AlertStatus::kResolved;
  throw std::invalid_argument("alert status must be \"firing\" or \"resolved\", not \"" + text + "\"");
}

std::string format_rfc3339(AlertTime time) {
  if (time == AlertTime{}) return "0001-01-01T00:00:00Z";
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  int64_t seconds = millis / 1000;
  int64_t fraction = millis % 1000;
  if (fraction < 0) {
    fraction += 1000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[80];  // ample for any int fields: no truncation warning
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(fraction));
  return text;
}

AlertTime parse_rfc3339(const std::string& text) {
  if (text == "0001-01-01T00:00:00Z") return AlertTime{};
  std::tm utc{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                  &utc.tm_min, &utc.tm_sec, &consumed) != 6 ||
      consumed != 19)
    throw std::invalid_argument("not an RFC 3339 UTC time: \"" + text + "\"");
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    int64_t scale = 100000000;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, scale /= 10)
      nanos += (text[pos] - '0') * scale;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z')
    throw std::invalid_argument("not an RFC 3339 UTC time (must end in Z): \"" + text + "\"");
  auto since_epoch = std::chrono::seconds(timegm(&utc)) + std::chrono::nanoseconds(nanos);
  return AlertTime(std::chrono::duration_cast<AlertTime::duration>(since_epoch));
}

nlohmann::json alert_to_json(const Alert& alert) {
  return {
      {"status", alert_status_name(alert.status)},
      {"labels", alert.labels},
      {"annotations", alert.annotations},
      {"startsAt", format_rfc3339(alert.starts_at)},
      {"endsAt", format_rfc3339(alert.ends_at)},
      {"generatorURL", alert.generator_url},
      {"fingerprint", alert_fingerprint(alert.labels)},
  };
}

Alert alert_from_json(const nlohmann::json& json) {
  auto field = [&json](const char* name) -> const nlohmann::json& {
    if (!json.is_object() || !json.contains(name))
      throw std::invalid_argument(std::string("alert JSON has no \"") + name + "\"");
    return json.at(name);
  };
  Alert alert;
  try {
    alert.status = parse_status(field("status").get<std::string>());
    alert.labels = field("labels").get<AlertLabels>();
    if (json.contains("annotations")) alert.annotations = json.at("annotations").get<std::map<std::string, std::string>>();
    alert.starts_at = parse_rfc3339(field("startsAt").get<std::string>());
    if (json.contains("endsAt")) alert.ends_at = parse_rfc3339(json.at("endsAt").get<std::string>());
    if (json.contains("generatorURL")) alert.generator_url = json.at("generatorURL").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("alert JSON: ") + e.what());
  }
  return alert;
}

// The pairs present with the same value in every map.
static std::map<std::string, std::string> common_pairs(const std::vector<const std::map<std::string, std::string>*>& maps) {
  if (maps.empty()) return {};
  std::map<std::string, std::string> common = *maps.front();
  for (const auto* map : maps) {
    for (auto it = common.begin(); it != common.end();) {
      auto found = map->find(it->first);
      it = (found == map->end() || found->second != it->second) ? common.erase(it) : std::next(it);
    }
  }
  return common;
}

nlohmann::json alertmanager_payload(const std::vector<Alert>& alerts, const AlertmanagerGroup& group) {
  std::vector<const std::map<std::string, std::string>*> labels, annotations;
  bool any_firing = false;
  nlohmann::json items = nlohmann::json::array();
  for (const Alert& alert : alerts) {
    labels.push_back(&alert.labels);
    annotations.push_back(&alert.annotations);
    any_firing |= alert.status == AlertStatus::kFiring;
    items.push_back(alert_to_json(alert));
  }
  auto common_labels = common_pairs(labels);
  std::map<std::string, std::string> group_labels;
  std::string group_key = "{}:{";
  if (auto it = common_labels.find("alertname"); it != common_labels.end()) {
    group_labels[it->first] = it->second;
    group_key += "alertname=" + nlohmann::json(it->second).dump();
  }
  group_key += "}";
  return {
      {"version", "4"},
      {"groupKey", group_key},
      {"truncatedAlerts", 0},
      {"status", any_firing ? "firing" : "resolved"},
      {"receiver", group.receiver},
      {"groupLabels", group_labels},
      {"commonLabels", common_labels},
      {"commonAnnotations", common_pairs(annotations)},
      {"externalURL", group.external_url},
      {"alerts", items},
  };
}

}  // namespace cw
