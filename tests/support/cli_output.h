// What the conceptwatch CLI (the process, CW_CLI_PATH) prints for `args`
// against a running daemon's query socket: what the HTTP port's pages and
// the decoded contexts must agree with.
#ifndef CW_TESTS_SUPPORT_CLI_OUTPUT_H_
#define CW_TESTS_SUPPORT_CLI_OUTPUT_H_

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "tests/support/daemon_process.h"

#ifndef CW_CLI_PATH
#error "CW_CLI_PATH must name the conceptwatch binary"
#endif

namespace cw::testing {

inline std::string cli_output(const DaemonProcess& daemon, const std::string& args) {
  const std::string command = std::string(CW_CLI_PATH) + " --endpoint " + daemon.query_endpoint() + " " + args;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) out.append(buffer, n);
  return out;
}

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_CLI_OUTPUT_H_
