// The daemon's /metrics page: the answer of the `status` query with
// {"taps": true} (the JSON `conceptwatch --json status --taps` prints: every
// run and every tap, which the summary `status` leaves out) rendered in the
// Prometheus text format, so the two always agree. docs/METRICS.md lists
// every family.
#ifndef CW_OBSERVE_DAEMON_METRICS_H_
#define CW_OBSERVE_DAEMON_METRICS_H_

#include <nlohmann/json.hpp>
#include <string>

namespace cw {

// Missing parts (a daemon built without crosscoders, a status read from a
// store with the daemon down) leave their families without samples.
std::string daemon_metrics_text(const nlohmann::json& status);

}  // namespace cw

#endif  // CW_OBSERVE_DAEMON_METRICS_H_
