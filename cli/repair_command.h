// `conceptwatch repair`: RocksDB's repair of a store the daemon refuses to
// open as corrupt (store/store_recovery.h). The daemon must be stopped; back the
// data directory up first, since records in unreadable files are dropped.
#ifndef CW_CLI_REPAIR_COMMAND_H_
#define CW_CLI_REPAIR_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_repair_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_REPAIR_COMMAND_H_
