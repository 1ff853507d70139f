// Turns an AlertsConfig into running sinks behind a dispatcher.
#ifndef CW_ALERTS_SINK_FACTORY_H_
#define CW_ALERTS_SINK_FACTORY_H_

#include <memory>

#include "alerts/alert_dispatcher.h"
#include "alerts/alert_sink.h"
#include "alerts/alerts_config.h"

namespace cw {

// Opens files, binds sockets and checks URLs now, so a bad configuration
// fails at start-up (std::runtime_error / std::invalid_argument naming the
// sink) rather than at the first alert.
std::unique_ptr<AlertSink> make_alert_sink(const SinkConfig& sink, const AlertsConfig& config);
std::unique_ptr<AlertDispatcher> make_alert_dispatcher(const AlertsConfig& config);

}  // namespace cw

#endif  // CW_ALERTS_SINK_FACTORY_H_
