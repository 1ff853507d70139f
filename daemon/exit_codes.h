// conceptwatchd's exit codes (sysexits.h values). A start-up failure that
// a restart cannot fix has a code of its own, which deploy/
// conceptwatchd.service lists in RestartPreventExitStatus=: systemd then
// leaves the daemon stopped, with the reason in its log, instead of
// restarting it in a loop. Documented in docs/INSTALL.md "Exit codes".
#ifndef CW_DAEMON_EXIT_CODES_H_
#define CW_DAEMON_EXIT_CODES_H_

#include <stdexcept>

namespace cw {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;        // anything else: a restart may help
constexpr int kExitStoreCorrupt = 65;  // EX_DATAERR: the store is damaged (or of a newer format)
constexpr int kExitStoreLocked = 73;   // EX_CANTCREAT: another process has the store open
constexpr int kExitConfig = 78;        // EX_CONFIG: the configuration, a flag or a key file is wrong

// A configuration the daemon refuses to start with (a bad value, a policy
// it breaks, a key file it cannot use): fixing it takes a person, not a
// restart, so main() exits with kExitConfig.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cw

#endif  // CW_DAEMON_EXIT_CODES_H_
