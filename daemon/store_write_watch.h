// Keeps conceptwatchd serving while its store refuses writes (a full disk,
// an I/O error; issue 11): RocksDB then stops taking writes until it is
// told to resume. Ingest refuses new data meanwhile (`busy`, marked
// storeUnavailable: hooks keep it queued and back off); this watch tries
// Store::resume (a reopen) every second on the serving thread, logs when writes stop
// and when they come back, holds the events raised meanwhile (in order, up
// to a bound) and stores them once writes come back, and reports it all in
// `status` (daemon.store).
#ifndef CW_DAEMON_STORE_WRITE_WATCH_H_
#define CW_DAEMON_STORE_WRITE_WATCH_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace cw {

class StoreWriteWatch {
 public:
  static constexpr uint64_t kResumeEveryMs = 1000;

  StoreWriteWatch(Store& store, std::size_t max_held_events = 10000);

  // Appends `event` to the event log and returns it as stored (with "seq"
  // and "run"), or holds it and returns nothing while the store refuses
  // writes (or older events are still held: they keep their order). From
  // any thread.
  std::optional<nlohmann::json> append_event(const std::string& run, const nlohmann::json& event);

  // On the serving thread, each turn: while writes are refused, tries to
  // resume every kResumeEveryMs; once writable, stores the held events and
  // returns them as stored.
  std::vector<nlohmann::json> tick(uint64_t now_ms);

  // {"writable", "read_only", "error", "no_space", "since_unix_ms",
  // "failed_writes", "resumed", "resume_error", "held_events",
  // "dropped_events"}.
  nlohmann::json status() const;

 private:
  struct Held {
    std::string run;
    nlohmann::json event;
  };
  nlohmann::json store_locked(const Held& held);  // requires mu_

  Store& store_;
  const std::size_t max_held_;
  mutable std::mutex mu_;
  std::deque<Held> held_;
  uint64_t dropped_ = 0;
  // Serving thread only.
  bool was_writable_ = true;
  uint64_t last_try_ms_ = 0;
};

}  // namespace cw

#endif  // CW_DAEMON_STORE_WRITE_WATCH_H_
