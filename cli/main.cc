// conceptwatch: ask conceptwatchd what the model has learned, and since when.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/analysis_commands.h"
#include "cli/attribution_command.h"
#include "cli/cli_context.h"
#include "cli/delete_run_command.h"
#include "cli/export_command.h"
#include "cli/import_command.h"
#include "cli/keygen_command.h"
#include "cli/plot_command.h"
#include "cli/query_commands.h"
#include "cli/refit_command.h"
#include "cli/repair_command.h"
#include "daemon/daemon_config.h"
#include "schema/defaults.h"

int main(int argc, char** argv) {
  cw::CliContext context;
  context.query_endpoint = cw::kDefaultQueryEndpoint;
  context.ingest_endpoint = cw::kDefaultIngestEndpoint;
  context.data_dir = cw::default_data_dir();

  CLI::App app{"conceptwatch: query conceptwatchd's view of a training run"};
  app.require_subcommand(1);
  app.add_option("--endpoint", context.query_endpoint, "daemon query endpoint")->capture_default_str();
  app.add_option("--ingest", context.ingest_endpoint, "daemon ingest endpoint (import, delete-run)")->capture_default_str();
  app.add_option("--data-dir", context.data_dir, "data directory, read when the daemon is down")->capture_default_str();
  app.add_option("--timeout-ms", context.timeout_ms, "how long to wait for the daemon")->capture_default_str();
  app.add_option("--server-key", context.keys.server_key,
                 "the daemon's CURVE public key file, for a daemon with [auth] keys")
      ->envname("CONCEPTWATCH_SERVER_KEY");
  app.add_option("--secret-key", context.keys.secret_key,
                 "your CURVE secret key file (conceptwatch keygen); its public key must be in the daemon's query_keys "
                 "(queries) or ingest_keys (import)")
      ->envname("CONCEPTWATCH_SECRET_KEY");
  app.add_flag("--json", context.json, "print JSON instead of tables");
  // Read before the command runs (the app's option callbacks run before its
  // subcommands').
  app.add_option_function<std::string>(
      "--config",
      [&context](const std::string& path) {
        cw::DaemonConfig config = cw::default_daemon_config();
        cw::load_daemon_config(path, &config);
        context.emergence = config.analysis.monitor.emergence;
        context.config_path = path;
      },
      "conceptwatchd's TOML configuration: answers read from the data directory (daemon down) use its "
      "[emergence] settings, as the daemon's do (refit: also its [crosscoder] settings)");
  // Subcommands accept --json after their name too.
  app.fallthrough();

  int exit_code = 0;
  cw::add_query_commands(app, context, &exit_code);
  cw::add_import_command(app, context, &exit_code);
  cw::add_delete_run_command(app, context, &exit_code);
  cw::add_keygen_command(app, context, &exit_code);
  cw::add_repair_command(app, context, &exit_code);
  cw::add_analysis_commands(app, context, &exit_code);
  cw::add_attribution_command(app, context, &exit_code);
  cw::add_plot_command(app, context, &exit_code);
  cw::add_export_command(app, context);
  cw::add_refit_command(app, context);

  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "conceptwatch: " << e.what() << "\n";
    return 1;
  }
  return exit_code;
}
