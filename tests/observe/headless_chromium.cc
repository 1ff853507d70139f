#include "tests/observe/headless_chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cw::testing {
namespace {

using Clock = std::chrono::steady_clock;
// A call answers in milliseconds; the first one waits for Chromium to start,
// which took over 15 s on a 2-core machine running the test suite beside a build.
constexpr auto kCallTimeout = std::chrono::seconds(60);

std::string base64_decode(const std::string& text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
          : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) continue;  // '=' padding
    bits = (bits << 6) | uint32_t(v);
    if ((count += 6) >= 8) out.push_back(char((bits >> (count -= 8)) & 0xff));
  }
  return out;
}

}  // namespace

std::string HeadlessChromium::binary() {
  const char* env = std::getenv("CW_CHROMIUM");
  const std::string path = env && *env ? env : "/usr/bin/chromium";
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

HeadlessChromium::HeadlessChromium(const std::string& url, int width, int height) {
  const std::string path = binary();
  if (path.empty()) throw std::runtime_error("no chromium (apt-get install chromium, or set CW_CHROMIUM)");
  // --no-sandbox: the tests may run as root, where the sandbox refuses to start.
  std::vector<std::string> args = {path, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                   "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
                                   "--remote-debugging-pipe", "--user-data-dir=" + profile_.sub("profile"),
                                   "--window-size=" + std::to_string(width) + "," + std::to_string(height), url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = profile_.sub("chromium.log");
  int to[2], from[2];
  if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("pipe() failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    // fds 3 and 4 may be the pipes' own numbers: move both ends out of the
    // way first (dup2 onto itself would keep a close-on-exec flag).
    const int in = ::fcntl(to[0], F_DUPFD, 10), out = ::fcntl(from[1], F_DUPFD, 10);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(in, 3);
    ::dup2(out, 4);
    for (int fd = 5; fd < 1024; ++fd) ::close(fd);
    ::setpgid(0, 0);  // its helper processes too, for the kill below
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(to[0]);
  ::close(from[1]);
  to_browser_ = to[1];
  from_browser_ = from[0];
  ::signal(SIGPIPE, SIG_IGN);  // a browser that died shows as a failed write
  const auto target = call("Target.createTarget", {{"url", url}}, false);
  session_ = call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}}, false)["sessionId"];
}

HeadlessChromium::~HeadlessChromium() {
  try {
    call("Browser.close", nlohmann::json::object(), false);
  } catch (const std::exception&) {
  }
  ::close(to_browser_);
  ::close(from_browser_);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

nlohmann::json HeadlessChromium::call(const std::string& method, const nlohmann::json& params, bool in_page) {
  const int id = next_id_++;
  nlohmann::json message = {{"id", id}, {"method", method}, {"params", params}};
  if (in_page) message["sessionId"] = session_;
  const std::string text = message.dump() + std::string(1, '\0');
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(to_browser_, text.data() + done, text.size() - done);
    if (n <= 0) throw std::runtime_error("chromium is gone (" + method + "):\n" + log());
    done += std::size_t(n);
  }
  const auto deadline = Clock::now() + kCallTimeout;
  while (true) {
    for (std::size_t end; (end = buffer_.find('\0')) != std::string::npos;) {
      auto reply = nlohmann::json::parse(buffer_.substr(0, end));
      buffer_.erase(0, end + 1);
      if (reply.value("id", -1) != id) continue;  // an event, or an older reply
      if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
      return reply["result"];
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd fd = {from_browser_, POLLIN, 0};
    if (left <= 0 || ::poll(&fd, 1, int(left)) <= 0) throw std::runtime_error("chromium did not answer " + method);
    char chunk[65536];
    const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n <= 0) throw std::runtime_error("chromium closed the pipe (" + method + "):\n" + log());
    buffer_.append(chunk, std::size_t(n));
  }
}

nlohmann::json HeadlessChromium::evaluate(const std::string& expression) {
  const auto result = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (result.contains("exceptionDetails")) throw std::runtime_error(expression + ": " + result["exceptionDetails"].dump());
  return result["result"].value("value", nlohmann::json());
}

bool HeadlessChromium::wait_for(const std::string& expression, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    // An exception is "not yet": while the page loads, document.body is null.
    if (evaluate("(() => { try { return !!(" + expression + "); } catch (e) { return false; } })()") == true) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void HeadlessChromium::mouse_move(double x, double y) {
  call("Input.dispatchMouseEvent", {{"type", "mouseMoved"}, {"x", x}, {"y", y}});
}

void HeadlessChromium::click(double x, double y) {
  for (const char* type : {"mousePressed", "mouseReleased"})
    call("Input.dispatchMouseEvent", {{"type", type}, {"x", x}, {"y", y}, {"button", "left"}, {"clickCount", 1}});
}

void HeadlessChromium::screenshot(const std::string& path) {
  const auto result = call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  std::ofstream(path, std::ios::binary) << base64_decode(result["data"].get<std::string>());
}

std::string HeadlessChromium::log() const {
  std::ifstream in(profile_.sub("chromium.log"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cw::testing
