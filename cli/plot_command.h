// `conceptwatch plot`: the paper's signature figure (normalised decoder norm
// per feature over snapshots, features sorted by emergence) and one
// feature's trajectory, as PNG.
#ifndef CW_CLI_PLOT_COMMAND_H_
#define CW_CLI_PLOT_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_plot_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_PLOT_COMMAND_H_
