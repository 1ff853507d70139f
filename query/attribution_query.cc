#include "query/attribution_query.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
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

// The task the query names, checked against the run's tasks.
const TaskSpec& requested_task(const RunDescription& run_description, const std::string& run,
                               const nlohmann::json& params) {
  const auto& tasks = run_description.tasks;
  if (tasks.empty()) {
    throw QueryError("run '" + run + "' registered no tasks: the job's hook registers task probes (token " +
                     "sequences and a metric) and sends their activations and gradient at each snapshot");
  }
  const std::string task = params.value("task", "");
  if (task.empty()) throw QueryError("missing parameter 'task': run '" + run + "' has tasks " + task_list(tasks));
  const TaskSpec* spec = run_description.find_task(task);
  if (!spec) throw QueryError("run '" + run + "' has no task '" + task + "'; its tasks: " + task_list(tasks));
  return *spec;
}

// The record's snapshots the answer shows: every one, or params["step"]'s.
std::vector<std::size_t> shown_snapshots(const AttributionRecord& record, const std::string& task,
                                         const nlohmann::json& params) {
  std::vector<std::size_t> shown(record.steps.size());
  std::iota(shown.begin(), shown.end(), std::size_t(0));
  if (!params.contains("step") || params["step"].is_null()) return shown;
  const uint64_t step = integer_param<uint64_t>(params, "step", 0);
  auto it = std::find(record.steps.begin(), record.steps.end(), step);
  if (it == record.steps.end()) {
    throw QueryError("task '" + task + "' has no attribution at step " + std::to_string(step) + "; its steps: " +
                     step_list(record.steps, 100));
  }
  return {std::size_t(it - record.steps.begin())};
}

// Summaries (emergence) of the features an answer names, read once each.
class FeatureSummaries {
 public:
  FeatureSummaries(Store& store, const std::string& run, const std::string& tap, const EmergenceOptions& emergence)
      : store_(store), run_(run), tap_(tap), emergence_(emergence), probe_(RunCatalog(store).probe(run)) {}

  const nlohmann::json& of(uint32_t feature) {
    auto it = summaries_.find(feature);
    if (it != summaries_.end()) return it->second;
    nlohmann::json json = nlohmann::json::object();
    if (auto trajectory = TrajectoryTable(store_).get(run_, tap_, feature); trajectory && !trajectory->points.empty())
      json = summarise_feature(*trajectory, emergence_, probe_ ? &*probe_ : nullptr).json;
    return summaries_.emplace(feature, std::move(json)).first->second;
  }
  nlohmann::json emerged(uint32_t feature) { return of(feature).value("emerged_step", nlohmann::json()); }
  // Where its norm rose over activations that already carried it (detect/emergence.h).
  nlohmann::json strengthened(uint32_t feature) { return of(feature).value("strengthened_step", nlohmann::json()); }

 private:
  Store& store_;
  const std::string& run_;
  const std::string& tap_;
  const EmergenceOptions& emergence_;
  std::optional<ProbeSet> probe_;
  std::map<uint32_t, nlohmann::json> summaries_;
};

// One record's attributions with each snapshot's total |attribution|, so
// that a feature's share of it is read in O(1).
class Attributions {
 public:
  explicit Attributions(const AttributionRecord& record) : record_(record), total_abs_(record.steps.size(), 0) {
    for (std::size_t t = 0; t < record.steps.size(); ++t)
      for (uint32_t i = 0; i < features(); ++i) total_abs_[t] += std::abs(row(t)[i]);
  }
  uint32_t features() const { return record_.n_features; }
  const float* row(std::size_t t) const { return &record_.values[t * features()]; }
  double total_abs(std::size_t t) const { return total_abs_[t]; }
  double share(std::size_t t, uint32_t i) const { return total_abs_[t] > 0 ? std::abs(row(t)[i]) / total_abs_[t] : 0.0; }

 private:
  const AttributionRecord& record_;
  std::vector<double> total_abs_;
};

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// Snapshot t: the metric, the totals and the top features.
nlohmann::json snapshot_answer(const AttributionRecord& record, const Attributions& attributions, std::size_t t,
                               int64_t top, FeatureSummaries* summaries) {
  const float* row = attributions.row(t);
  const uint32_t F = attributions.features();
  nlohmann::json rows = nlohmann::json::array();
  for (const uint32_t i : top_features(row, F, top)) {
    rows.push_back({{"feature", i},
                    {"attribution", row[i]},
                    {"share", attributions.share(t, i)},
                    {"emerged_step", summaries->emerged(i)},
                    {"strengthened_step", summaries->strengthened(i)}});
  }
  const double total = std::accumulate(row, row + F, 0.0), linear = record.linear_total[t];
  // "explained": the share of the metric's linear read that the features
  // carry; near 0 says the crosscoder does not reconstruct what the metric
  // reads, and the attributions are not to be trusted.
  return {{"step", record.steps[t]},
          {"metric", finite_or_null(record.metric[t])},
          {"total", total},
          {"total_abs", attributions.total_abs(t)},
          {"linear_total", finite_or_null(linear)},
          {"explained", finite_or_null(std::abs(linear) > 1e-12 ? total / linear : std::nan(""))},
          {"top", rows}};
}

// How the features carrying the task at snapshot `last` got there.
nlohmann::json feature_histories(const AttributionRecord& record, const Attributions& attributions, std::size_t last,
                                 int64_t top, FeatureSummaries* summaries) {
  nlohmann::json features = nlohmann::json::array();
  for (const uint32_t i : top_features(attributions.row(last), attributions.features(), top)) {
    nlohmann::json attribution = nlohmann::json::array(), shares = nlohmann::json::array();
    for (std::size_t t = 0; t < record.steps.size(); ++t) {
      attribution.push_back(attributions.row(t)[i]);
      shares.push_back(attributions.share(t, i));
    }
    const auto& s = summaries->of(i);
    features.push_back({{"feature", i},
                        {"emerged_step", summaries->emerged(i)},
                        {"strengthened_step", summaries->strengthened(i)},
                        {"faded_step", s.value("faded_step", nlohmann::json())},
                        {"top_context", s.value("top_context", "")},
                        {"attribution", attribution},
                        {"share", shares}});
  }
  return features;
}

nlohmann::json attribution_query(Store& store, const EmergenceOptions& emergence, const nlohmann::json& params) {
  const std::string run = required_param(params, "run");
  const std::string tap = resolve_tap(store, run, params);
  const auto entry = RunCatalog(store).get(run);
  const TaskSpec& spec = requested_task(entry->description, run, params);
  const int64_t top = integer_param<int64_t>(params, "top", 10);
  if (top < 1) throw QueryError("top must be at least 1");
  const auto record = AttributionTable(store).get(run, tap, spec.name);
  if (!record) throw QueryError(why_missing(store, run, tap, spec.name));
  const auto shown = shown_snapshots(*record, spec.name, params);

  FeatureSummaries summaries(store, run, tap, emergence);
  const Attributions attributions(*record);
  nlohmann::json snapshots = nlohmann::json::array();
  for (const std::size_t t : shown) snapshots.push_back(snapshot_answer(*record, attributions, t, top, &summaries));
  const nlohmann::json features = feature_histories(*record, attributions, shown.back(), top, &summaries);
  // The crosscoder's snapshots now: more than the record's when the newest
  // task arrays have not arrived (the record is of an earlier update).
  const auto held = crosscoder_steps(store, run, tap);
  return nlohmann::json{{"run", run},
                        {"tap", tap},
                        {"task", spec.name},
                        {"metric", spec.metric},
                        {"task_tokens", spec.token_ids.size()},
                        {"n_features", record->n_features},
                        {"steps", record->steps},
                        {"crosscoder_snapshots", held.size()},
                        {"complete", held == record->steps},
                        {"snapshots", snapshots},
                        {"features", features}};
}

}  // namespace

void add_attribution_query(QueryHandler& handler, Store& store, const EmergenceOptions& emergence) {
  handler.add("attribution",
              [&store, emergence](const nlohmann::json& params) { return attribution_query(store, emergence, params); });
}

}  // namespace cw
