#include "daemon/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace cw {

SystemdNotify::SystemdNotify() {
  uint64_t usec = 0;
  // > 0 only when systemd asked this very process (WATCHDOG_PID, if set, is ours).
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0) interval_ = std::chrono::microseconds(usec / 2);
}

void SystemdNotify::ready(const std::string& status) {
  const int sent = sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
  if (sent < 0) spdlog::warn("could not tell systemd the daemon is ready (sd_notify: {})", -sent);
  last_ = std::chrono::steady_clock::now();
  if (sent > 0 && watchdog_enabled()) sd_notify(0, "WATCHDOG=1");
}

void SystemdNotify::watchdog_tick() {
  if (!watchdog_enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < interval_) return;
  last_ = now;
  sd_notify(0, "WATCHDOG=1");
}

void SystemdNotify::stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace cw
