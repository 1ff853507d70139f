// `conceptwatch repair`: brings back a store the daemon refuses to open as
// corrupt (store/store_recovery.h: its newest consistent state, the files as
// they were kept beside it). The daemon must be stopped.
#ifndef CW_CLI_REPAIR_COMMAND_H_
#define CW_CLI_REPAIR_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_repair_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_REPAIR_COMMAND_H_
