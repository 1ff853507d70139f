// Shared by the alerting tests: a well-formed alert, a sink the test
// controls, and waiting for something another thread does.
#ifndef CW_TESTS_ALERTING_ALERT_TEST_UTIL_H_
#define CW_TESTS_ALERTING_ALERT_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/alerting/alert.h"
#include "daemon/alerting/alert_sink.h"

namespace cw::testing {

inline Alert make_alert(const std::string& alertname = "FeatureEmerged", const std::string& tap = "blocks.1.resid_post") {
  Alert alert;
  alert.labels = {{"alertname", alertname},
                  {"run", "repeat-7"},
                  {"tap", tap},
                  {"detector", "emergence"},
                  {"severity", "info"}};
  alert.annotations = {{"summary", "feature 17 emerged"}, {"onset_step", "412"}, {"alarm_step", "430"}};
  alert.starts_at = AlertTime(std::chrono::milliseconds(1700000000123));
  alert.generator_url = "http://127.0.0.1:7781/features/17";
  return alert;
}

// Polls `done` until it holds or a generous limit passes (a hung test, not a
// speed requirement). Returns whether it held.
inline bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// What a ScriptedSink saw, shared with the test so it outlives a worker
// thread that shutdown() detached.
struct SinkScript {
  std::mutex mutex;
  std::condition_variable changed;
  bool blocked = false;   // deliver() waits while this is true
  int failures_left = 0;  // deliver() throws this many more times
  int entered = 0;        // calls to deliver()
  std::vector<Alert> delivered;

  void set_blocked(bool value) {
    std::lock_guard<std::mutex> lock(mutex);
    blocked = value;
    changed.notify_all();
  }
  int entered_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return entered;
  }
  size_t delivered_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return delivered.size();
  }
};

class ScriptedSink : public AlertSink {
 public:
  explicit ScriptedSink(std::shared_ptr<SinkScript> script) : script_(std::move(script)) {}
  std::string name() const override { return "scripted"; }
  void deliver(const Alert& alert) override {
    std::unique_lock<std::mutex> lock(script_->mutex);
    ++script_->entered;
    script_->changed.notify_all();
    script_->changed.wait(lock, [this] { return !script_->blocked; });
    if (script_->failures_left > 0) {
      --script_->failures_left;
      throw std::runtime_error("scripted failure");
    }
    script_->delivered.push_back(alert);
  }

 private:
  std::shared_ptr<SinkScript> script_;
};

}  // namespace cw::testing

#endif  // CW_TESTS_ALERTING_ALERT_TEST_UTIL_H_
