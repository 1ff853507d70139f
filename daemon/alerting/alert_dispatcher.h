// Fans alerts out to sinks so that a slow or failing sink never stalls the
// daemon or the other sinks: every sink gets its own bounded queue and
// worker thread, which retries with exponential back-off and finally drops
// (and counts) what it cannot deliver.
#ifndef CW_DAEMON_ALERTING_ALERT_DISPATCHER_H_
#define CW_DAEMON_ALERTING_ALERT_DISPATCHER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/alerting/alert.h"
#include "daemon/alerting/alert_sink.h"

namespace cw {

struct DeliveryPolicy {
  size_t queue_capacity = 256;  // alerts waiting for this sink; more are dropped
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};  // back-off doubles up to this
  uint32_t max_attempts = 8;  // per alert, then it is dropped
};

struct SinkStats {
  std::string sink;
  uint64_t delivered = 0;
  uint64_t retried = 0;         // failed attempts that were tried again
  uint64_t dropped_full = 0;    // refused by emit(): queue full or shut down
  uint64_t dropped_failed = 0;  // out of attempts, or abandoned at shutdown
  uint64_t queued = 0;          // waiting now (not counting the one in flight)
  std::string last_error;       // empty until a delivery fails
  uint64_t dropped() const { return dropped_full + dropped_failed; }
};

class AlertDispatcher {
 public:
  AlertDispatcher() = default;
  // Shuts down with kDefaultShutdownDeadline if shutdown() was not called.
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  static constexpr std::chrono::milliseconds kDefaultShutdownDeadline{5000};

  // Starts a worker for `sink`. Throws std::invalid_argument on a policy
  // that cannot work (zero capacity or attempts, max below initial back-off).
  void add_sink(std::unique_ptr<AlertSink> sink, const DeliveryPolicy& policy = {});

  // Queues `alert` for every sink and returns at once: never waits on a
  // sink; a sink whose queue is full drops it (counted in dropped_full).
  void emit(const Alert& alert);

  // One entry per sink, in the order they were added.
  std::vector<SinkStats> stats() const;

  // Stops taking alerts and lets every worker drain its queue until
  // `deadline` from now; then drops what is left (counted) and stops
  // retrying. A worker still inside deliver() at the deadline is detached
  // and exits when deliver() returns (it owns its sink). Returns whether
  // every queue drained in time. Later calls return false at once.
  bool shutdown(std::chrono::milliseconds deadline = kDefaultShutdownDeadline);

 private:
  struct Worker;  // one sink, its queue and its thread (alert_dispatcher.cc)

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Worker>> workers_;
  bool shut_down_ = false;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ALERT_DISPATCHER_H_
