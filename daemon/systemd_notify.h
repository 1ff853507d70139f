// Tells systemd how the daemon is doing (Type=notify in
// deploy/conceptwatchd.service): READY=1 once the sockets are served,
// WATCHDOG=1 from the serving loop at half the unit's WatchdogSec, and
// STOPPING=1 on the way out. Without NOTIFY_SOCKET (not started by systemd)
// every call does nothing.
#ifndef CW_DAEMON_SYSTEMD_NOTIFY_H_
#define CW_DAEMON_SYSTEMD_NOTIFY_H_

#include <chrono>
#include <string>

namespace cw {

class SystemdNotify {
 public:
  SystemdNotify();  // reads NOTIFY_SOCKET and WATCHDOG_USEC once

  void ready(const std::string& status);
  // Sends WATCHDOG=1 when half the watchdog interval has passed since the
  // last one; cheap enough to call on every turn of the serving loop.
  void watchdog_tick();
  void stopping();

  bool watchdog_enabled() const { return interval_.count() > 0; }

 private:
  std::chrono::microseconds interval_{0};
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace cw

#endif  // CW_DAEMON_SYSTEMD_NOTIFY_H_
