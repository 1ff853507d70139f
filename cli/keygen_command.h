// `conceptwatch keygen PATH`: a CURVE key pair as PATH.pub and PATH.secret
// (auth/curve_keys.h), for the daemon or for a client.
#ifndef CW_CLI_KEYGEN_COMMAND_H_
#define CW_CLI_KEYGEN_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_keygen_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_KEYGEN_COMMAND_H_
