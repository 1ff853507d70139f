// `conceptwatch import`: stores activations saved from existing checkpoints
// (.npy) through the same validation and store path as live snapshots.
#ifndef CW_CLI_IMPORT_COMMAND_H_
#define CW_CLI_IMPORT_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_import_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_IMPORT_COMMAND_H_
