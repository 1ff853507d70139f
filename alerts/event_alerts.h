// Turns the daemon's events into alerts: one label set per condition
// (alertname, run, tap, detector, severity, plus what identifies it), raised
// once while it holds and resolved when it ends, delivered by the configured
// sinks (alerts/) without ever blocking the daemon.
#ifndef CW_ALERTS_EVENT_ALERTS_H_
#define CW_ALERTS_EVENT_ALERTS_H_

#include <memory>
#include <nlohmann/json.hpp>

#include "alerts/alert_book.h"
#include "alerts/alert_dispatcher.h"
#include "alerts/alerts_config.h"

namespace cw {

class EventAlerts {
 public:
  explicit EventAlerts(const AlertsConfig& config);  // throws on a sink that cannot be set up
  ~EventAlerts();

  void on_event(const nlohmann::json& event);
  nlohmann::json status() const;  // per-sink delivery counts, firing alerts

 private:
  AlertsConfig config_;
  std::unique_ptr<AlertDispatcher> dispatcher_;
  std::unique_ptr<AlertBook> book_;
};

}  // namespace cw

#endif  // CW_ALERTS_EVENT_ALERTS_H_
