// `conceptwatch delete-run --run NAME --yes`: deletes a run and everything
// stored for it (store/run_deletion.h). Through the daemon when it is up:
// a write command on its ingest socket, so with CURVE the key must be in
// ingest_keys (a read-only query key is refused); the daemon stops the
// run's crosscoder workers first. With the daemon down, directly on the
// data directory.
#ifndef CW_CLI_DELETE_RUN_COMMAND_H_
#define CW_CLI_DELETE_RUN_COMMAND_H_

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace cw {

void add_delete_run_command(CLI::App& app, const CliContext& context, int* exit_code);

}  // namespace cw

#endif  // CW_CLI_DELETE_RUN_COMMAND_H_
