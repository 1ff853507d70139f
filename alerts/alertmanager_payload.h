// The body Prometheus Alertmanager POSTs to a webhook_config receiver
// (payload version "4"), so receivers written for Alertmanager (Slack
// bridges, PagerDuty relays, alerta, ...) accept conceptwatch's alerts as is.
#ifndef CW_ALERTS_ALERTMANAGER_PAYLOAD_H_
#define CW_ALERTS_ALERTMANAGER_PAYLOAD_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerts/alert.h"

namespace cw {

// One notification group. We notify per label set (every alert is its own
// group), so groupLabels are the alert's full label set, as Alertmanager
// does with group_by: ['...']; with several alerts they are the labels all
// share. Fields: version "4", groupKey, truncatedAlerts 0, status ("firing"
// if any alert fires), receiver, groupLabels, commonLabels,
// commonAnnotations, externalURL, alerts[] (see alert_to_json).
nlohmann::json alertmanager_payload(const std::vector<Alert>& alerts, const std::string& receiver,
                                    const std::string& external_url);

}  // namespace cw

#endif  // CW_ALERTS_ALERTMANAGER_PAYLOAD_H_
