// status, runs, snapshots: what the daemon holds.
#ifndef CW_CLI_QUERY_COMMANDS_H_
#define CW_CLI_QUERY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

// Each command's callback sets *exit_code.
void add_query_commands(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_QUERY_COMMANDS_H_
