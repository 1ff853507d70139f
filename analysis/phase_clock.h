// Wall seconds of an update's phases, in order: where an update's time goes
// besides its training budget (`status` last_update.phase_seconds, and the
// daemon's log line for the update).
#ifndef CW_ANALYSIS_PHASE_CLOCK_H_
#define CW_ANALYSIS_PHASE_CLOCK_H_

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace cw {

class PhaseClock {
 public:
  // Ends the phase running since the last lap (or since construction).
  void lap(const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    seconds_[phase] = seconds;
    text_ += fmt::format("{}{} {:.2f} s", text_.empty() ? "" : ", ", phase, seconds);
    last_ = now;
  }
  const nlohmann::json& seconds() const { return seconds_; }
  const std::string& text() const { return text_; }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  nlohmann::json seconds_ = nlohmann::json::object();
  std::string text_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_PHASE_CLOCK_H_
