#include "cli/delete_run_command.h"

#include <iostream>

#include "cli/text_table.h"
#include "query/daemon_client.h"
#include "query/query_handler.h"
#include "schema/run_checks.h"
#include "store/run_deletion.h"

namespace cw {
namespace {

struct DeleteRunArgs {
  std::string run;
  bool yes = false;
  double timeout_s = 600;
};

nlohmann::json delete_via_daemon(const CliContext& context, const DeleteRunArgs& args) {
  // A short question first, so that a daemon that is down is told apart
  // from a deletion that takes long (compacting a large run's files).
  DaemonClient(context.ingest_endpoint, std::chrono::milliseconds(context.timeout_ms), context.keys, "ingest").query("ping");
  DaemonClient client(context.ingest_endpoint, std::chrono::milliseconds(int64_t(args.timeout_s * 1000)), context.keys,
                      "ingest");
  nlohmann::json result = client.query("delete_run", {{"run", args.run}});
  result["via"] = "daemon";
  return result;
}

nlohmann::json delete_in_data_dir(const CliContext& context, const DeleteRunArgs& args) {
  std::cerr << "conceptwatchd is not reachable at " << context.ingest_endpoint << "; deleting in " << context.data_dir
            << " directly\n";
  auto store = Store::open(context.data_dir);  // read-write: fails, saying so, if a daemon holds it
  const auto deleted = delete_run(*store, args.run);
  if (!deleted) throw QueryError("unknown run " + quoted_name(args.run) + ": nothing deleted");
  nlohmann::json result = deleted->to_json();
  result["via"] = "data_dir";
  return result;
}

void run_delete(const CliContext& context, const DeleteRunArgs& args) {
  if (!args.yes) {
    throw std::runtime_error("delete-run deletes run " + quoted_name(args.run) +
                             " and everything stored for it (snapshots, crosscoder, events, trajectories, attribution) "
                             "for good: pass --yes to do it");
  }
  nlohmann::json result;
  try {
    result = delete_via_daemon(context, args);
  } catch (const DaemonUnreachable&) {
    result = delete_in_data_dir(context, args);
  } catch (const DaemonRefused& e) {
    throw DaemonRefused(std::string(e.what()) + "; delete-run is a write command: its key must be in ingest_keys");
  }
  print_answer(context, result, [&](const nlohmann::json& json) {
    std::cout << "deleted run " << quoted_name(args.run) << ": " << json["arrays"].get<uint64_t>() << " arrays ("
              << human_bytes(double(json["array_bytes"].get<uint64_t>())) << ") and " << json["records"].get<uint64_t>()
              << " other records in " << json["seconds"].get<double>() << " s";
    if (json.value("disk_bytes_after", nlohmann::json()).is_number())
      std::cout << "; the store takes " << human_bytes(double(json["disk_bytes_after"].get<uint64_t>())) << " now ("
                << human_bytes(double(json["disk_bytes_before"].get<uint64_t>())) << " before)\n";
    else
      std::cout << "; its space (the store took " << human_bytes(double(json["disk_bytes_before"].get<uint64_t>()))
                << ") comes back as the daemon compacts in the background (status: store.compactions_pending)\n";
  });
}

}  // namespace

void add_delete_run_command(CLI::App& app, const CliContext& context, int* exit_code) {
  auto args = std::make_shared<DeleteRunArgs>();
  auto* command = app.add_subcommand(
      "delete-run", "delete a run and everything stored for it, through the daemon (a key in ingest_keys) or, with the "
                    "daemon down, in --data-dir");
  command->add_option("--run", args->run, "run id")->required();
  command->add_flag("--yes", args->yes, "really delete (required: there is no undo)");
  command->add_option("--wait", args->timeout_s, "seconds to wait for the daemon to finish")->capture_default_str();
  command->callback([&context, exit_code, args] {
    run_delete(context, *args);
    *exit_code = 0;
  });
}

}  // namespace cw
