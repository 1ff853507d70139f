// `conceptwatch export`: the stored crosscoder of a (run, tap) as
// crosscoder.safetensors + config.json for Python, read from the data
// directory without LibTorch (crosscoder/crosscoder_state.h).
#ifndef CW_CLI_EXPORT_COMMAND_H_
#define CW_CLI_EXPORT_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_export_command(CLI::App& app, const CliContext& context);

}  // namespace cw

#endif  // CW_CLI_EXPORT_COMMAND_H_
