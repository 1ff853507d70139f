// crosscoder, features, feature N, events [--follow], phases: what the
// model has learned, and since when.
#ifndef CW_CLI_ANALYSIS_COMMANDS_H_
#define CW_CLI_ANALYSIS_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_analysis_commands(CLI::App& app, const CliContext& context, int* exit_code);

// "▁▂▃▅▇" for values in [0, 1].
std::string sparkline(const std::vector<double>& values);

}  // namespace cw

#endif  // CW_CLI_ANALYSIS_COMMANDS_H_
