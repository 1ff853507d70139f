// Warnings about refused messages, rate-limited: at most `per_second` lines
// per reason in each second; the rest are counted, and the count is logged
// ("suppressed K ...") when that second is over. Without it a peer sending
// bad frames in a loop writes one journal line per frame (issue 11),
// drowning the warnings that matter. Single-threaded: the serving loop's.
#ifndef CW_INGEST_REFUSAL_LOG_H_
#define CW_INGEST_REFUSAL_LOG_H_

#include <cstdint>
#include <map>
#include <string>

namespace cw {

class RefusalLog {
 public:
  explicit RefusalLog(uint32_t per_second = 10) : per_second_(per_second) {}

  // Logs `message` (at error level if `is_error`, else warning) unless
  // `reason` (e.g. an error code) already had per_second lines in the
  // current second.
  void note(const std::string& reason, const std::string& message, uint64_t now_ms, bool is_error = false);
  // Logs the suppressed count of every reason whose second is over; called
  // with each warning and once a second by the serving loop, so a burst's
  // count appears even when no refusal follows it.
  void flush(uint64_t now_ms);

  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  struct Window {
    uint64_t start_ms = 0;
    uint32_t logged = 0;
    uint64_t suppressed = 0;
  };
  const uint32_t per_second_;
  std::map<std::string, Window> windows_;  // a handful of reasons
  uint64_t suppressed_total_ = 0;
};

}  // namespace cw

#endif  // CW_INGEST_REFUSAL_LOG_H_
