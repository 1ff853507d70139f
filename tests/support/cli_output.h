// Runs commands (the conceptwatch CLI, CW_CLI_PATH) the way a user does and
// keeps what they print: what the HTTP port's pages, the decoded contexts,
// the attribution and the store repair are checked against.
#ifndef CW_TESTS_SUPPORT_CLI_OUTPUT_H_
#define CW_TESTS_SUPPORT_CLI_OUTPUT_H_

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "tests/support/daemon_process.h"

#ifndef CW_CLI_PATH
#error "CW_CLI_PATH must name the conceptwatch binary"
#endif

namespace cw::testing {

struct CommandOutput {
  int status = -1;  // the exit status; -1 when it did not exit
  std::string out;  // its standard output
};

// Runs `command` through the shell (so it may redirect stderr).
inline CommandOutput run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  CommandOutput result;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// What the CLI prints for `args` against a running daemon's query socket.
inline std::string cli_output(const DaemonProcess& daemon, const std::string& args) {
  return run_command(std::string(CW_CLI_PATH) + " --endpoint " + daemon.query_endpoint() + " " + args).out;
}

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_CLI_OUTPUT_H_
