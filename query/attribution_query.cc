#include "query/attribution_query.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "query/analysis_queries.h"
#include "query/feature_summary.h"
#include "store/analysis_tables.h"
#include "store/attribution_table.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

std::string task_list(const std::vector<TaskSpec>& tasks) {
  std::string out;
  for (const auto& t : tasks) out += (out.empty() ? "" : ", ") + t.name + (t.metric.empty() ? "" : " (" + t.metric + ")");
  return out;
}

std::string step_list(const std::vector<uint64_t>& steps, std::size_t at_most = 8) {
  std::string out;
  for (std::size_t i = 0; i < steps.size() && i < at_most; ++i) out += (i ? ", " : "") + std::to_string(steps[i]);
  if (steps.size() > at_most) out += " and " + std::to_string(steps.size() - at_most) + " more";
  return out;
}

// The steps of the crosscoder's snapshots, as its stored metrics list them.
std::vector<uint64_t> crosscoder_steps(Store& store, const std::string& run, const std::string& tap) {
  std::vector<uint64_t> steps;
  for (const auto& [step, metrics] : MetricsTable(store).list(run, tap)) steps.push_back(step);
  return steps;
}

// Why (run, tap, task) has no attribution yet, as the user can act on it.
std::string why_missing(Store& store, const std::string& run, const std::string& tap, const std::string& task) {
  std::set<uint64_t> activations, gradients;
  for (const auto& meta : SnapshotTable(store).list_all(run)) {
    if (meta.key.tap != tap || meta.key.task != task) continue;
    if (meta.key.kind == ArrayKind::kTaskActivations) activations.insert(meta.key.step);
    if (meta.key.kind == ArrayKind::kTaskGradient) gradients.insert(meta.key.step);
  }
  const std::string what = "task '" + task + "' at " + run + "/" + tap;
  if (activations.empty() && gradients.empty()) return "the job sent no arrays for " + what + " yet";
  if (gradients.empty()) {
    return what + " has activations (" + std::to_string(activations.size()) +
           " snapshots) but no gradients: attribution needs ∂m/∂x at the tap with the activations at every snapshot";
  }
  const auto held = crosscoder_steps(store, run, tap);
  if (held.empty()) return "no crosscoder for " + run + "/" + tap + " yet, so no attribution for " + what;
  std::vector<uint64_t> lacking;
  for (const uint64_t step : held)
    if (!activations.count(step) || !gradients.count(step)) lacking.push_back(step);
  if (lacking.empty()) return "no attribution for " + what + " yet: the crosscoder's next update computes it";
  return "no attribution for " + what + ": it needs the task's activations and gradient at every snapshot the " +
         "crosscoder holds; missing at step(s) " + step_list(lacking);
}

// The top `k` features of one snapshot's attribution by |attr|.
std::vector<uint32_t> top_features(const float* row, uint32_t n_features, int64_t k) {
  std::vector<uint32_t> order(n_features);
  std::iota(order.begin(), order.end(), 0u);
  const auto end = order.begin() + std::min<int64_t>(k, n_features);
  std::partial_sort(order.begin(), end, order.end(), [row](uint32_t a, uint32_t b) {
    return std::abs(row[a]) > std::abs(row[b]) || (std::abs(row[a]) == std::abs(row[b]) && a < b);
  });
  order.erase(end, order.end());
  return order;
}

}  // namespace

void add_attribution_query(QueryHandler& handler, Store& store, const EmergenceOptions& emergence) {
  handler.add("attribution", [&store, emergence](const nlohmann::json& params) {
    const std::string run = required_param(params, "run");
    const std::string tap = resolve_tap(store, run, params);
    const auto entry = RunCatalog(store).get(run);
    const auto& tasks = entry->description.tasks;
    if (tasks.empty()) {
      throw QueryError("run '" + run + "' registered no tasks: the job's hook registers task probes (token " +
                       "sequences and a metric) and sends their activations and gradient at each snapshot");
    }
    const std::string task = params.value("task", "");
    if (task.empty()) throw QueryError("missing parameter 'task': run '" + run + "' has tasks " + task_list(tasks));
    const TaskSpec* spec = entry->description.find_task(task);
    if (!spec) throw QueryError("run '" + run + "' has no task '" + task + "'; its tasks: " + task_list(tasks));
    const int64_t top = integer_param<int64_t>(params, "top", 10);
    if (top < 1) throw QueryError("top must be at least 1");

    const auto record = AttributionTable(store).get(run, tap, task);
    if (!record) throw QueryError(why_missing(store, run, tap, task));
    const uint32_t F = record->n_features;
    std::vector<std::size_t> shown(record->steps.size());
    std::iota(shown.begin(), shown.end(), std::size_t(0));
    if (params.contains("step") && !params["step"].is_null()) {
      const uint64_t step = integer_param<uint64_t>(params, "step", 0);
      auto it = std::find(record->steps.begin(), record->steps.end(), step);
      if (it == record->steps.end()) {
        throw QueryError("task '" + task + "' has no attribution at step " + std::to_string(step) + "; its steps: " +
                         step_list(record->steps, 100));
      }
      shown = {std::size_t(it - record->steps.begin())};
    }

    // Summaries (emergence) of the features that appear, read once each.
    const auto probe = RunCatalog(store).probe(run);
    std::map<uint32_t, nlohmann::json> summaries;
    auto summary = [&](uint32_t feature) -> const nlohmann::json& {
      auto it = summaries.find(feature);
      if (it != summaries.end()) return it->second;
      nlohmann::json json = nlohmann::json::object();
      if (auto trajectory = TrajectoryTable(store).get(run, tap, feature); trajectory && !trajectory->points.empty())
        json = summarise_feature(*trajectory, emergence, probe ? &*probe : nullptr).json;
      return summaries.emplace(feature, std::move(json)).first->second;
    };
    auto emerged = [&](uint32_t feature) { return summary(feature).value("emerged_step", nlohmann::json()); };

    std::vector<double> total_abs(record->steps.size(), 0);
    for (std::size_t t = 0; t < record->steps.size(); ++t)
      for (uint32_t i = 0; i < F; ++i) total_abs[t] += std::abs(record->values[t * F + i]);
    auto share = [&](std::size_t t, uint32_t i) {
      return total_abs[t] > 0 ? std::abs(record->values[t * F + i]) / total_abs[t] : 0.0;
    };

    nlohmann::json snapshots = nlohmann::json::array();
    for (const std::size_t t : shown) {
      const float* row = &record->values[t * F];
      nlohmann::json rows = nlohmann::json::array();
      for (const uint32_t i : top_features(row, F, top)) {
        rows.push_back({{"feature", i}, {"attribution", row[i]}, {"share", share(t, i)}, {"emerged_step", emerged(i)}});
      }
      auto finite_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
      const double total = std::accumulate(row, row + F, 0.0), linear = record->linear_total[t];
      // "explained": the share of the metric's linear read that the
      // features carry; near 0 says the crosscoder does not reconstruct
      // what the metric reads, and the attributions are not to be trusted.
      snapshots.push_back({{"step", record->steps[t]},
                           {"metric", finite_or_null(record->metric[t])},
                           {"total", total},
                           {"total_abs", total_abs[t]},
                           {"linear_total", finite_or_null(linear)},
                           {"explained", finite_or_null(std::abs(linear) > 1e-12 ? total / linear : std::nan(""))},
                           {"top", rows}});
    }
    // How the features carrying the task at the last snapshot shown got there.
    nlohmann::json features = nlohmann::json::array();
    const std::size_t last = shown.back();
    for (const uint32_t i : top_features(&record->values[last * F], F, top)) {
      nlohmann::json attribution = nlohmann::json::array(), shares = nlohmann::json::array();
      for (std::size_t t = 0; t < record->steps.size(); ++t) {
        attribution.push_back(record->values[t * F + i]);
        shares.push_back(share(t, i));
      }
      const auto& s = summary(i);
      features.push_back({{"feature", i},
                          {"emerged_step", emerged(i)},
                          {"faded_step", s.value("faded_step", nlohmann::json())},
                          {"top_context", s.value("top_context", "")},
                          {"attribution", attribution},
                          {"share", shares}});
    }
    // The crosscoder's snapshots now: more than the record's when the newest
    // task arrays have not arrived (the record is of an earlier update).
    const auto held = crosscoder_steps(store, run, tap);
    return nlohmann::json{{"run", run},
                          {"tap", tap},
                          {"task", task},
                          {"metric", spec->metric},
                          {"task_tokens", spec->token_ids.size()},
                          {"n_features", F},
                          {"steps", record->steps},
                          {"crosscoder_snapshots", held.size()},
                          {"complete", held == record->steps},
                          {"snapshots", snapshots},
                          {"features", features}};
  });
}

}  // namespace cw
