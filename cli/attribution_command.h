// attribution --run R [--tap T] --task NAME [--top K] [--step S]: which
// features carry a task at each snapshot, and how that changed in training.
#ifndef CW_CLI_ATTRIBUTION_COMMAND_H_
#define CW_CLI_ATTRIBUTION_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_attribution_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_ATTRIBUTION_COMMAND_H_
