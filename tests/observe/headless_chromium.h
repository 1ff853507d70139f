// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol
// on a pipe (--remote-debugging-pipe: NUL-terminated JSON on the browser's
// fds 3 and 4), so that a test reads a live page's DOM, moves the mouse and
// takes screenshots with no WebSocket client and no new dependency.
#ifndef CW_TESTS_OBSERVE_HEADLESS_CHROMIUM_H_
#define CW_TESTS_OBSERVE_HEADLESS_CHROMIUM_H_

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/temp_dir.h"

namespace cw::testing {

class HeadlessChromium {
 public:
  // $CW_CHROMIUM, else /usr/bin/chromium; empty when it is not installed.
  static std::string binary();

  // Starts the browser with a fresh profile, a `width` × `height` window,
  // showing `url`. Throws std::runtime_error (with the browser's log).
  explicit HeadlessChromium(const std::string& url, int width = 1500, int height = 1500);
  ~HeadlessChromium();  // closes the browser, killing it if it lingers
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // The value of a JavaScript expression in the page; throws on an exception.
  nlohmann::json evaluate(const std::string& expression);
  // Polls `expression` until it is truthy (one that throws is not, yet);
  // false if it is not after `timeout`.
  bool wait_for(const std::string& expression, std::chrono::milliseconds timeout);
  // A real mouse move (and click) at page coordinates (CSS pixels).
  void mouse_move(double x, double y);
  void click(double x, double y);
  // The page as it is now, as a PNG file.
  void screenshot(const std::string& path);
  // What the browser wrote to stdout and stderr.
  std::string log() const;

 private:
  nlohmann::json call(const std::string& method, const nlohmann::json& params, bool in_page = true);

  TempDir profile_;
  pid_t pid_ = -1;
  int to_browser_ = -1, from_browser_ = -1;
  std::string buffer_;  // bytes read past the last whole message
  int next_id_ = 1;
  std::string session_;  // the page's DevTools session
};

}  // namespace cw::testing

#endif  // CW_TESTS_OBSERVE_HEADLESS_CHROMIUM_H_
