#include "cli/query_commands.h"

#include <iostream>
#include <memory>

#include "cli/run_target.h"
#include "cli/text_table.h"
#include "query/status_request.h"

namespace cw {
namespace {

std::string text(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// Who may connect: CURVE roles with their keys and refusals, or loopback.
void print_auth(const nlohmann::json& auth) {
  if (!auth.value("curve", false)) {
    std::cout << "auth        none (loopback, or --allow-unauthenticated)\n";
    return;
  }
  std::cout << "auth        CURVE";
  for (const auto& [role, counts] : auth["roles"].items()) {
    std::cout << (role == auth["roles"].begin().key() ? ": " : "; ") << role << " " << counts["keys"] << " keys, "
              << counts["accepted"] << " let in, " << counts["refused"] << " refused";
  }
  std::cout << "\n";
}

// {"idle": 3, "queued": 1} as "3 idle, 1 queued".
std::string state_counts(const nlohmann::json& by_state) {
  std::string out;
  for (const auto& [state, count] : by_state.items())
    out += (out.empty() ? "" : ", ") + count.dump() + " " + state;
  return out.empty() ? "none" : out;
}

// The daemon's summary of every tap (analysis/crosscoder_summary.h); the
// per-tap lines come with --run or --taps.
void print_crosscoder_summary(const nlohmann::json& summary) {
  std::cout << "crosscoders " << summary.value("taps", 0) << " taps: " << state_counts(summary["by_state"]) << "; "
            << summary.value("snapshots", 0) << " snapshots in them, backlog " << summary.value("backlog", 0) << "\n";
  for (const auto& tap : summary.value("attention", nlohmann::json::array()))
    std::cout << "ATTENTION   " << text(tap["run"]) << "/" << text(tap["tap"]) << ": " << text(tap["state"]) << " ("
              << text(tap["error"]) << ")\n";
  if (const uint64_t more = summary.value("attention_left_out", uint64_t(0)); more != 0)
    std::cout << "ATTENTION   and " << more << " more taps (conceptwatch status --taps --limit 0)\n";
  for (const auto& run : summary.value("runs", nlohmann::json::array()))
    std::cout << "run         " << text(run["run"]) << ": " << run.value("taps", 0) << " taps, "
              << state_counts(run["by_state"]) << ", backlog " << run.value("backlog", 0) << "\n";
  if (const uint64_t more = summary.value("runs_left_out", uint64_t(0)); more != 0)
    std::cout << "run         and " << more << " more (all idle or less busy; --limit 0 lists them, --run R shows "
              << "one run's taps)\n";
}

void print_status(const nlohmann::json& status) {
  const auto& daemon = status["daemon"];
  if (daemon.value("up", false)) {
    std::cout << "daemon      up " << daemon["uptime_s"].get<double>() << " s, ingest " << text(daemon["ingest_endpoint"])
              << "\n";
    std::cout << "ingest      " << daemon["snapshots_stored"] << " snapshots stored this session, "
              << daemon["duplicates"] << " duplicates, " << daemon["errors"] << " refused messages\n";
    std::cout << "backlog     " << daemon["pending_snapshots"] << " partial snapshots ("
              << human_bytes(daemon["pending_bytes"].get<double>()) << ")\n";
    if (!daemon.value("http", "").empty())
      std::cout << "http        " << text(daemon["http"]) << " (/metrics, /healthz, /readyz)\n";
    if (daemon.contains("auth")) print_auth(daemon["auth"]);
    if (const auto store = daemon.value("store", nlohmann::json::object()); !store.value("writable", true))
      std::cout << "store       NOT WRITABLE: " << text(store["error"]) << "; new data refused (jobs keep it queued), "
                << store.value("held_events", 0) << " events held, retrying every second"
                << (store.value("no_space", false) ? ": free space on the store's disk" : "") << "\n";
  } else {
    std::cout << "daemon      DOWN\n";
  }
  std::cout << "data        " << text(status["data_dir"]) << " (" << human_bytes(status["disk_bytes"].get<double>())
            << " on disk)\n";
  std::cout << "snapshots   " << status["snapshots_stored"] << " stored in "
            << status["runs"].size() + status.value("runs_left_out", std::size_t(0)) << " runs\n";
  for (const auto& run : status["runs"])
    if (run.contains("error")) std::cout << "UNREADABLE  run " << text(run["run"]) << ": " << text(run["error"]) << "\n";
  if (daemon.contains("trainers")) {
    const auto& trainers = daemon["trainers"];
    const auto& memory = trainers["memory"];
    std::cout << "trainers    " << trainers.value("workers", 0) << " threads (" << trainers.value("busy", 0)
              << " busy), " << trainers.value("queued", 0) << " taps queued; memory "
              << human_bytes(memory.value("reserved_bytes", 0.0)) << " of "
              << human_bytes(memory.value("cap_bytes", 0.0))
              << " reserved (peak " << human_bytes(memory.value("peak_reserved_bytes", 0.0)) << ")\n";
  }
  if (daemon.contains("crosscoder_summary")) print_crosscoder_summary(daemon["crosscoder_summary"]);
  for (const auto& cc : daemon.value("crosscoders", nlohmann::json::array())) {
    std::cout << "crosscoder  " << text(cc["run"]) << "/" << text(cc["tap"]) << ": " << cc.value("snapshots", 0)
              << " snapshots, " << text(cc["state"]) << ", backlog " << cc.value("backlog", 0);
    if (cc.value("state", "") == "over memory cap") std::cout << " (" << text(cc["error"]) << ")";
    if (cc.value("streamed", false))
      std::cout << ", streamed (" << human_bytes(cc.value("memory_bytes", 0.0)) << " reserved)";
    if (cc.contains("latest")) {
      std::cout << ", explained variance " << cc["latest"].value("explained_variance", 0.0) << ", L0 "
                << cc["latest"].value("l0", 0.0);
    }
    std::cout << "\n";
  }
}

void print_runs(const nlohmann::json& runs) {
  TextTable table({"RUN", "TAP", "D_MODEL", "SNAPSHOTS", "LAST_STEP", "PROBE_TOKENS"});
  for (const auto& run : runs) {
    for (const auto& tap : run["taps"]) {
      table.add({text(run["run"]), text(tap["name"]), text(tap["d_model"]), text(tap["snapshots"]), text(tap["last_step"]),
                 text(run["probe_tokens"])});
    }
  }
  table.print(std::cout);
}

void print_snapshots(const nlohmann::json& snapshots) {
  TextTable table({"TAP", "STEP", "TOKENS_SEEN", "SHAPE", "DTYPE", "SIZE", "SCALARS"});
  for (const auto& snapshot : snapshots) {
    std::string scalars;
    for (const auto& [name, value] : snapshot["scalars"].items()) {
      char number[64];
      std::snprintf(number, sizeof number, "%.4g", value.get<double>());
      scalars += (scalars.empty() ? "" : " ") + name + "=" + number;
    }
    table.add({text(snapshot["tap"]), text(snapshot["step"]), text(snapshot["tokens_seen"]),
               text(snapshot["n_tokens"]) + "x" + text(snapshot["d_model"]), text(snapshot["dtype"]),
               human_bytes(snapshot["bytes"].get<double>()), scalars});
  }
  table.print(std::cout);
}

}  // namespace

void add_query_commands(CLI::App& app, const CliContext& context, int* exit_code) {
  auto* status = app.add_subcommand("status", "daemon state, runs, snapshots stored, backlog, disk used");
  auto request = std::make_shared<StatusRequest>();  // owned by the callback, which the app keeps
  status->add_option("--run", request->run, "this run only, with its taps' crosscoders");
  status->add_flag("--taps", request->taps, "every tap's crosscoder (megabytes with thousands of taps)");
  auto* limit = status->add_option("--limit", request->limit,
                                   "runs and taps needing attention listed (0: all; default 20, all with --taps)");
  status->callback([&context, exit_code, request, limit] {
    nlohmann::json params = nlohmann::json::object();
    if (limit->count() != 0) params["limit"] = request->limit;  // else the daemon's default
    if (!request->run.empty()) params["run"] = request->run;
    if (request->taps) params["taps"] = true;
    Answer answer = ask(context, "status", params);
    print_answer(context, answer.json, print_status);
    *exit_code = answer.from_daemon ? 0 : 3;  // like `systemctl status`: down is not success
  });

  app.add_subcommand("runs", "runs and their taps")->callback([&context] {
    print_answer(context, ask(context, "runs").json, print_runs);
  });

  auto* snapshots = app.add_subcommand("snapshots", "stored snapshots of a run");
  auto target = std::make_shared<RunTarget>();  // owned by the callback, which the app keeps
  snapshots->add_option("--run", target->run, "run id")->required();
  snapshots->add_option("--tap", target->tap, "only this tap");
  snapshots->callback([&context, target] {
    print_answer(context, ask(context, "snapshots", target->params()).json, print_snapshots);
  });
}

}  // namespace cw
