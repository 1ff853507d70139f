// Fans notifications out to sinks without letting any sink stall the daemon
// or another sink: each sink has its own bounded queue and worker thread,
// failed deliveries are retried with exponential back-off, and an alert
// that cannot be queued or delivered is dropped and counted, never waited on.
#ifndef CW_ALERTS_ALERT_DISPATCHER_H_
#define CW_ALERTS_ALERT_DISPATCHER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/alert_sink.h"

namespace cw {

struct RetryPolicy {
  std::chrono::milliseconds initial_delay{500};  // wait after the first failure
  std::chrono::milliseconds max_delay{30000};    // the wait doubles up to this
  int max_attempts = 8;                          // tries per alert; 1 = never retry
};

struct SinkOptions {
  std::string name;             // for stats and logs; empty = sink->describe()
  size_t queue_capacity = 1024; // alerts waiting for this sink; more are dropped
  RetryPolicy retry;
};

struct SinkStats {
  std::string name;
  uint64_t delivered = 0;
  uint64_t retried = 0;             // failed attempts that were tried again
  uint64_t dropped_queue_full = 0;  // emitted while the queue was full
  uint64_t dropped_gave_up = 0;     // failed max_attempts times
  uint64_t dropped_at_shutdown = 0; // still queued or retrying at the deadline, or emitted after shutdown
  size_t queued = 0;                // waiting now (not counting one in delivery)
  bool delivering = false;          // a deliver() call or a back-off wait is under way
  std::string last_error;           // the most recent failure, "" if none yet

  uint64_t dropped() const { return dropped_queue_full + dropped_gave_up + dropped_at_shutdown; }
};

class AlertDispatcher {
 public:
  AlertDispatcher() = default;
  // shutdown(kDefaultShutdownDeadline) unless it was already called.
  ~AlertDispatcher();

  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  static constexpr std::chrono::milliseconds kDefaultShutdownDeadline{2000};

  // Starts the sink's worker. Throws std::invalid_argument on a null sink, a
  // zero queue capacity or max_attempts < 1, std::logic_error after shutdown.
  void add_sink(std::unique_ptr<AlertSink> sink, SinkOptions options);

  // Queues a copy of the alert for every sink. Never waits on a sink: only
  // takes each queue's lock for the push. Thread-safe.
  void emit(const Alert& alert);

  std::vector<SinkStats> stats() const;  // in the order sinks were added

  // Waits until every queue is empty and no sink is delivering or backing
  // off, or the timeout passes; returns whether all went idle.
  bool flush(std::chrono::milliseconds timeout);

  // Stops taking alerts; workers keep delivering what is queued (retries
  // included) until done or the deadline passes. After the deadline, what
  // is still queued is dropped and counted, interrupt() is called on sinks
  // still in deliver(), and their threads are let go (they own their state
  // and exit when deliver() returns). Returns true if no alert was dropped
  // for lack of time. Idempotent.
  bool shutdown(std::chrono::milliseconds deadline);

 private:
  struct Worker;

  mutable std::mutex mu_;  // guards workers_ and shut_down_
  std::vector<std::shared_ptr<Worker>> workers_;
  bool shut_down_ = false;
};

}  // namespace cw

#endif  // CW_ALERTS_ALERT_DISPATCHER_H_
