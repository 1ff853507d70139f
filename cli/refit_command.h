// `conceptwatch refit ARGS`: runs conceptwatch-refit (cli/refit_main.cc),
// the program that trains a crosscoder offline, found beside this binary.
// It links LibTorch; the CLI does not, so that every other command starts
// in milliseconds. Everything after `refit` (its --help too) goes to it,
// with this CLI's --data-dir and --json.
#ifndef CW_CLI_REFIT_COMMAND_H_
#define CW_CLI_REFIT_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

#include "cli/cli_context.h"

namespace cw {

void add_refit_command(CLI::App& app, const CliContext& context);

// conceptwatch-refit's path: beside the running binary.
std::string refit_program_path();

}  // namespace cw

#endif  // CW_CLI_REFIT_COMMAND_H_
