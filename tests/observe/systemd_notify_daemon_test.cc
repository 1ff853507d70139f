// The real conceptwatchd started as systemd starts a Type=notify unit with
// WatchdogSec: NOTIFY_SOCKET names a datagram socket this test owns,
// WATCHDOG_USEC the interval. READY=1 arrives once it serves, WATCHDOG=1
// keeps arriving, STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/daemon_process.h"

namespace cw {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) throw std::runtime_error("socket path too long: " + path);
    path.copy(address.sun_path, path.size());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      throw std::runtime_error("cannot bind " + path);
  }
  ~NotifySocket() { ::close(fd_); }

  // Messages received until `until` returns true for one, or `timeout`.
  std::vector<std::string> receive_until(const std::function<bool(const std::string&)>& until,
                                         std::chrono::milliseconds timeout) {
    std::vector<std::string> messages;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd item{fd_, POLLIN, 0};
      if (::poll(&item, 1, 50) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      messages.emplace_back(buffer, std::size_t(n));
      if (until(messages.back())) break;
    }
    return messages;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

bool has(const std::string& message, const std::string& line) {
  return message == line || message.rfind(line + "\n", 0) == 0 || message.find("\n" + line) != std::string::npos;
}

TEST(DaemonSystemd, ReadyThenWatchdogThenStopping) {
  testing::DaemonProcess daemon({"--store-only"});
  NotifySocket socket(daemon.scratch().sub("notify.sock"));
  // The child inherits these; a unit with WatchdogSec=0.4s would set the same.
  ::setenv("NOTIFY_SOCKET", daemon.scratch().sub("notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  daemon.start();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  int watchdogs = 0;
  const auto messages = socket.receive_until(
      [&watchdogs](const std::string& m) { return has(m, "WATCHDOG=1") && ++watchdogs == 4; }, std::chrono::seconds(10));
  ASSERT_FALSE(messages.empty()) << daemon.log();
  EXPECT_TRUE(has(messages.front(), "READY=1")) << messages.front();
  EXPECT_NE(messages.front().find("STATUS=serving"), std::string::npos) << messages.front();
  EXPECT_EQ(watchdogs, 4) << "WATCHDOG=1 every 0.2 s expected within 10 s";

  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  const auto last = socket.receive_until([](const std::string& m) { return has(m, "STOPPING=1"); },
                                         std::chrono::seconds(5));
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(has(last.back(), "STOPPING=1"));
}

// Started by hand (no NOTIFY_SOCKET), nothing is sent and nothing fails.
TEST(DaemonSystemd, WithoutNotifySocketItJustRuns) {
  ASSERT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
