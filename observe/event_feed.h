// The events the daemon raises, for live readers (the dashboard's
// server-sent events, observe/event_stream.h): a bounded ring of the newest
// events, each numbered in publishing order. publish() is called from the
// analysis workers' threads, wait_after() from the HTTP threads; neither
// touches the store, so a slow browser cannot hold up a worker (it only
// misses events the ring has dropped, and is told so).
#ifndef CW_OBSERVE_EVENT_FEED_H_
#define CW_OBSERVE_EVENT_FEED_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

namespace cw {

class EventFeed {
 public:
  explicit EventFeed(std::size_t capacity = 256) : capacity_(capacity) {}

  // Adds `event` (as the event log stores it: with "run" and "seq") and wakes
  // every reader.
  void publish(nlohmann::json event);

  // The number of the next event to be published: a new reader starts here.
  uint64_t end() const;

  struct Batch {
    std::vector<nlohmann::json> events;  // published at or after the cursor, oldest first
    bool lost = false;                   // the ring dropped some the reader had not seen
  };
  // Events from `*cursor` on, waiting up to `timeout` for the first; moves
  // `*cursor` past what it returns. Empty when none came in time.
  Batch wait_after(uint64_t* cursor, std::chrono::milliseconds timeout) const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable published_;
  std::deque<nlohmann::json> ring_;  // events first_ .. first_ + size - 1
  uint64_t first_ = 0;
};

}  // namespace cw

#endif  // CW_OBSERVE_EVENT_FEED_H_
