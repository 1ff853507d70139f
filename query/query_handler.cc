#include "query/query_handler.h"

#include <limits>

#include "schema/run_checks.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

nlohmann::json scalars_json(const Scalars& scalars) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : scalars) out[name] = value;
  return out;
}

}  // namespace

std::string required_param(const nlohmann::json& params, const char* name) {
  if (!params.contains(name) || !params[name].is_string() || params[name].get<std::string>().empty()) {
    throw QueryError(std::string("missing parameter '") + name + "'");
  }
  return params[name].get<std::string>();
}

template <typename T>
T integer_param(const nlohmann::json& params, const char* name, T fallback) {
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return fallback;
  const nlohmann::json& value = params[name];
  const bool fits = value.is_number_unsigned()  ? value.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                    : value.is_number_integer() ? value.get<int64_t>() >= int64_t(std::numeric_limits<T>::min())
                                                : false;
  if (!fits) {
    throw QueryError(std::string("parameter '") + name + "' must be an integer from " +
                     std::to_string(std::numeric_limits<T>::min()) + " to " + std::to_string(std::numeric_limits<T>::max()));
  }
  return value.get<T>();
}
template int64_t integer_param(const nlohmann::json&, const char*, int64_t);
template uint64_t integer_param(const nlohmann::json&, const char*, uint64_t);

QueryHandler::QueryHandler(Store& store, Live live) : store_(store), live_(std::move(live)) {
  add("status", [this](const nlohmann::json& p) { return status(p); });
  add("runs", [this](const nlohmann::json& p) { return runs(p); });
  add("snapshots", [this](const nlohmann::json& p) { return snapshots(p); });
  add("run_description", [this](const nlohmann::json& p) { return run_description(p); });
}

void QueryHandler::add(const std::string& name, Command command) { commands_[name] = std::move(command); }

nlohmann::json QueryHandler::answer(const std::string& command, const nlohmann::json& params) const {
  auto it = commands_.find(command);
  if (it == commands_.end()) throw QueryError("unknown query " + quoted_name(command));
  return it->second(params);
}

nlohmann::json QueryHandler::runs(const nlohmann::json&) const {
  RunCatalog catalog(store_);
  SnapshotTable snapshots(store_);
  nlohmann::json out = nlohmann::json::array();
  // A corrupt record (a run's, or one of its snapshots') shows as that
  // run's "error", and the other runs are answered.
  std::vector<RunCatalog::Unreadable> unreadable;
  const auto entries = catalog.list(&unreadable);
  for (const auto& bad : unreadable)
    out.push_back({{"run", bad.run}, {"error", bad.error}, {"taps", nlohmann::json::array()}});
  for (const auto& entry : entries) {
    const auto& run = entry.description;
    nlohmann::json taps = nlohmann::json::array();
    std::vector<SnapshotMeta> metas;
    try {
      metas = snapshots.list(run.run);
    } catch (const std::runtime_error& e) {
      out.push_back({{"run", run.run}, {"error", e.what()}, {"taps", taps}});
      continue;
    }
    for (const auto& tap : run.taps) {
      uint64_t count = 0, last_step = 0;
      for (const auto& meta : metas) {
        if (meta.key.tap != tap.name) continue;
        ++count;
        last_step = std::max(last_step, meta.key.step);
      }
      taps.push_back({{"name", tap.name}, {"d_model", tap.d_model}, {"snapshots", count}, {"last_step", last_step}});
    }
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& task : run.tasks) tasks.push_back({{"name", task.name}, {"tokens", task.token_ids.size()}, {"metric", task.metric}});
    out.push_back({{"run", run.run},
                   {"dtype", dtype_name(run.dtype)},
                   {"probe_tokens", entry.n_probe_tokens},
                   {"probe_hash", entry.probe_hash},
                   {"created_unix_ms", entry.created_unix_ms},
                   {"taps", taps},
                   {"tasks", tasks}});
  }
  return out;
}

nlohmann::json QueryHandler::snapshots(const nlohmann::json& params) const {
  const std::string run = required_param(params, "run");
  if (!RunCatalog(store_).get(run)) throw QueryError("unknown run " + quoted_name(run));
  const std::string tap = params.value("tap", "");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& meta : SnapshotTable(store_).list(run, tap)) {
    out.push_back({{"tap", meta.key.tap},
                   {"step", meta.key.step},
                   {"tokens_seen", meta.tokens_seen},
                   {"n_tokens", meta.n_tokens},
                   {"d_model", meta.d_model},
                   {"dtype", dtype_name(meta.dtype)},
                   {"bytes", meta.bytes()},
                   {"checksum", meta.checksum},
                   {"received_unix_ms", meta.received_unix_ms},
                   {"scalars", scalars_json(meta.scalars)}});
  }
  return out;
}

// The run as its Hello described it, probe tokens included: what a second
// sender (e.g. `conceptwatch import`) needs to join the run.
nlohmann::json QueryHandler::run_description(const nlohmann::json& params) const {
  const std::string run = required_param(params, "run");
  RunCatalog catalog(store_);
  auto entry = catalog.get(run);
  auto probe = catalog.probe(run);
  if (!entry || !probe) throw QueryError("unknown run " + quoted_name(run));
  nlohmann::json taps = nlohmann::json::array();
  for (const auto& tap : entry->description.taps) taps.push_back({{"name", tap.name}, {"d_model", tap.d_model}});
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& task : entry->description.tasks) {
    tasks.push_back({{"name", task.name}, {"token_ids", task.token_ids}, {"sequence_length", task.sequence_length},
                     {"metric", task.metric}});
  }
  return {{"run", run},
          {"dtype", dtype_name(entry->description.dtype)},
          {"taps", taps},
          {"tasks", tasks},
          {"probe", {{"token_ids", probe->token_ids}, {"sequence_length", probe->sequence_length}, {"vocabulary", probe->vocabulary}}}};
}

// Every run is read (snapshots_stored is the store's total), but only the
// first `limit` are listed, unreadable ones first, or only the one asked for.
nlohmann::json QueryHandler::status(const nlohmann::json& params) const {
  const StatusRequest request = StatusRequest::from_params(params);
  nlohmann::json out = nlohmann::json::object();
  uint64_t total = 0, left_out = 0;
  nlohmann::json run_list = nlohmann::json::array();
  for (const auto& run : runs({})) {
    uint64_t count = 0;
    for (const auto& tap : run["taps"]) count += tap["snapshots"].get<uint64_t>();
    total += count;
    if (run.contains("error")) out["unreadable_runs"] = out.value("unreadable_runs", 0) + 1;
    if (!request.run.empty() && run["run"] != request.run) continue;
    if (request.limit != 0 && run_list.size() >= request.limit) {
      ++left_out;
      continue;
    }
    run_list.push_back({{"run", run["run"]}, {"taps", run["taps"].size()}, {"snapshots", count}});
    if (run.contains("error")) run_list.back()["error"] = run["error"];
  }
  if (!request.run.empty() && run_list.empty()) throw QueryError("unknown run " + quoted_name(request.run));
  // After the runs: a run asked for is known before the daemon lists its taps.
  out["daemon"] = live_ ? live_(request) : nlohmann::json{{"up", false}};
  out["runs"] = run_list;
  if (left_out != 0) out["runs_left_out"] = left_out;  // absent when all are listed, as before
  out["snapshots_stored"] = total;
  out["data_dir"] = store_.dir();
  out["disk_bytes"] = store_.disk_bytes();
  return out;
}

}  // namespace cw
