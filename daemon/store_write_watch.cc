#include "daemon/store_write_watch.h"

#include <spdlog/spdlog.h>

#include "schema/unix_time.h"
#include "store/analysis_tables.h"

namespace cw {

StoreWriteWatch::StoreWriteWatch(Store& store, std::size_t max_held_events)
    : store_(store), max_held_(max_held_events) {}

nlohmann::json StoreWriteWatch::store_locked(const Held& held) {
  nlohmann::json stored = held.event;  // as the `events` query will answer it
  stored["seq"] = EventLog(store_).append(held.run, held.event);
  stored["run"] = held.run;
  return stored;
}

std::optional<nlohmann::json> StoreWriteWatch::append_event(const std::string& run, const nlohmann::json& event) {
  std::lock_guard<std::mutex> lock(mu_);  // also keeps two workers from taking the same seq
  if (held_.empty() && store_.write_state().writable) {
    try {
      return store_locked({run, event});
    } catch (const StoreWriteError&) {
      // held below; the serving thread logs the store's error
    }
  }
  if (held_.size() >= max_held_) {
    held_.pop_front();
    if (dropped_++ == 0)
      spdlog::error("{} events raised while the store could not be written are held: the oldest are dropped now",
                    max_held_);
  }
  held_.push_back({run, event});
  return std::nullopt;
}

std::vector<nlohmann::json> StoreWriteWatch::tick(uint64_t now_ms) {
  std::vector<nlohmann::json> stored;
  if (store_.read_only()) return stored;  // --read-only: not writable, by choice
  StoreWriteState state = store_.write_state();
  if (!state.writable) {
    if (was_writable_) {
      was_writable_ = false;
      spdlog::error("the store in '{}' cannot be written: {}. Refusing new data (hooks keep it queued) and trying again "
                    "every {} s; {}",
                    store_.dir(), state.error, kResumeEveryMs / 1000,
                    state.no_space ? "free space on that disk" : "check the disk (dmesg)");
    }
    if (now_ms - last_try_ms_ < kResumeEveryMs) return stored;
    last_try_ms_ = now_ms;
    if (!store_.resume()) return stored;
    state = store_.write_state();
  }
  std::lock_guard<std::mutex> lock(mu_);
  try {
    while (!held_.empty()) {
      stored.push_back(store_locked(held_.front()));
      held_.pop_front();
    }
  } catch (const StoreWriteError&) {
    return stored;  // not writable again: the next turns log it and retry
  }
  if (!was_writable_) {
    was_writable_ = true;
    spdlog::warn("the store in '{}' takes writes again: taking data again ({} held events stored)", store_.dir(),
                 stored.size());
  }
  return stored;
}

nlohmann::json StoreWriteWatch::status() const {
  const StoreWriteState state = store_.write_state();
  nlohmann::json out = {{"writable", state.writable},     {"read_only", store_.read_only()},
                        {"failed_writes", state.failed_writes},
                        {"resumed", state.resumed},       {"dropped_events", 0},
                        {"held_events", 0}};
  if (!state.writable) {
    out["error"] = state.error;
    out["no_space"] = state.no_space;
    out["since_unix_ms"] = state.since_unix_ms;
    if (!state.resume_error.empty()) out["resume_error"] = state.resume_error;
  }
  std::lock_guard<std::mutex> lock(mu_);
  out["held_events"] = held_.size();
  out["dropped_events"] = dropped_;
  return out;
}

}  // namespace cw
