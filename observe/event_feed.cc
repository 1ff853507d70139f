#include "observe/event_feed.h"

namespace cw {

void EventFeed::publish(nlohmann::json event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ring_.push_back(std::move(event));
    if (ring_.size() > capacity_) {
      ring_.pop_front();
      ++first_;
    }
  }
  published_.notify_all();
}

uint64_t EventFeed::end() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_ + ring_.size();
}

EventFeed::Batch EventFeed::wait_after(uint64_t* cursor, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  published_.wait_for(lock, timeout, [&] { return first_ + ring_.size() > *cursor; });
  Batch batch;
  if (*cursor < first_) {
    batch.lost = true;
    *cursor = first_;
  }
  for (uint64_t i = *cursor; i < first_ + ring_.size(); ++i) batch.events.push_back(ring_[i - first_]);
  *cursor = first_ + ring_.size();
  return batch;
}

}  // namespace cw
