#include "ingest/refusal_log.h"

#include <spdlog/spdlog.h>

namespace cw {
namespace {
constexpr uint64_t kWindowMs = 1000;
}  // namespace

void RefusalLog::note(const std::string& reason, const std::string& message, uint64_t now_ms, bool is_error) {
  flush(now_ms);
  Window& window = windows_[reason];
  if (window.logged == 0 && window.suppressed == 0) window.start_ms = now_ms;
  if (window.logged < per_second_) {
    ++window.logged;
    spdlog::log(is_error ? spdlog::level::err : spdlog::level::warn, "{}", message);
  } else {
    ++window.suppressed;
    ++suppressed_total_;
  }
}

void RefusalLog::flush(uint64_t now_ms) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& window = it->second;
    if (now_ms - window.start_ms < kWindowMs) {
      ++it;
      continue;
    }
    if (window.suppressed > 0)
      spdlog::warn("suppressed {} more warnings of this kind ({}) in the last {:.1f} s", window.suppressed, it->first,
                   (now_ms - window.start_ms) / 1000.0);
    it = windows_.erase(it);  // the next warning of this reason opens a new second
  }
}

}  // namespace cw
