#include "alerts/alertmanager_payload.h"

#include <map>

#include "schema/json_text.h"

namespace cw {

namespace {

// The pairs every map in `maps` holds with the same value.
std::map<std::string, std::string> common_pairs(const std::vector<const std::map<std::string, std::string>*>& maps) {
  if (maps.empty()) return {};
  std::map<std::string, std::string> common = *maps.front();
  for (size_t i = 1; i < maps.size(); ++i) {
    for (auto it = common.begin(); it != common.end();) {
      auto other = maps[i]->find(it->first);
      it = (other == maps[i]->end() || other->second != it->second) ? common.erase(it) : std::next(it);
    }
  }
  return common;
}

// Alertmanager's groupKey is "<route matchers>:<group labels>"; we have no
// routing tree, hence the empty "{}" route.
std::string group_key(const std::map<std::string, std::string>& group_labels) {
  std::string key = "{}:{";
  bool first = true;
  for (const auto& [name, value] : group_labels) {
    if (!first) key += ", ";
    first = false;
    key += name + "=" + json_text(nlohmann::json(value));
  }
  return key + "}";
}

}  // namespace

nlohmann::json alertmanager_payload(const std::vector<Alert>& alerts, const std::string& receiver,
                                    const std::string& external_url) {
  std::vector<const std::map<std::string, std::string>*> labels, annotations;
  bool any_firing = false;
  nlohmann::json items = nlohmann::json::array();
  for (const Alert& alert : alerts) {
    labels.push_back(&alert.labels);
    annotations.push_back(&alert.annotations);
    any_firing = any_firing || alert.status == AlertStatus::kFiring;
    items.push_back(alert_to_json(alert));
  }
  auto common_labels = common_pairs(labels);
  return {
      {"version", "4"},
      {"groupKey", group_key(common_labels)},
      {"truncatedAlerts", 0},
      {"status", any_firing ? "firing" : "resolved"},
      {"receiver", receiver},
      {"groupLabels", common_labels},
      {"commonLabels", common_labels},
      {"commonAnnotations", common_pairs(annotations)},
      {"externalURL", external_url},
      {"alerts", items},
  };
}

}  // namespace cw
