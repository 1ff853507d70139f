// refit: trains a crosscoder (it links the torch-based crosscoder; the rest
// of the CLI does not need it).
#ifndef CW_CLI_CROSSCODER_COMMANDS_H_
#define CW_CLI_CROSSCODER_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_crosscoder_commands(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_CROSSCODER_COMMANDS_H_
