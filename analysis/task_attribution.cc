#include "analysis/task_attribution.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "schema/unix_time.h"
#include "store/attribution_table.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

// Why the task cannot be computed at `step`, or nothing when both arrays
// are there with the task's shape.
std::optional<std::string> missing(const std::optional<SnapshotMeta>& meta, const char* what, uint64_t step,
                                   std::size_t rows, int64_t d_model) {
  if (!meta) return std::string("no task ") + what + " at step " + std::to_string(step);
  if (meta->n_tokens != rows || int64_t(meta->d_model) != d_model) {
    return std::string("task ") + what + " at step " + std::to_string(step) + " is " + std::to_string(meta->n_tokens) +
           " × " + std::to_string(meta->d_model) + ", expected " + std::to_string(rows) + " × " +
           std::to_string(d_model);
  }
  return std::nullopt;
}


}  // namespace

TaskAttribution::TaskAttribution(Store& store, std::string run, std::string tap)
    : store_(store), run_(std::move(run)), tap_(std::move(tap)) {}

std::vector<TaskSpec> TaskAttribution::tasks() const {
  auto entry = RunCatalog(store_).get(run_);
  return entry ? entry->description.tasks : std::vector<TaskSpec>{};
}

void TaskAttribution::update(const Crosscoder& crosscoder) {
  loaded_ = true;  // everything is recomputed: what the store held no longer matters
  for (const auto& task : tasks()) compute(crosscoder, task);
}

void TaskAttribution::catch_up(const Crosscoder& crosscoder) {
  if (crosscoder.n_snapshots() == 0) return;
  const auto specs = tasks();
  load_covered(specs);
  const auto steps = crosscoder.steps();
  for (const auto& task : specs) {
    if (covered_[task.name] != steps) compute(crosscoder, task);
  }
}

bool TaskAttribution::behind(const std::vector<uint64_t>& steps) {
  if (steps.empty()) return false;
  const auto specs = tasks();
  load_covered(specs);
  return std::any_of(specs.begin(), specs.end(), [&](const TaskSpec& task) { return covered_[task.name] != steps; });
}

void TaskAttribution::load_covered(const std::vector<TaskSpec>& specs) {
  if (loaded_) return;
  for (const auto& task : specs) {
    if (auto record = AttributionTable(store_).get(run_, tap_, task.name)) covered_[task.name] = record->steps;
  }
  loaded_ = true;
}

void TaskAttribution::compute(const Crosscoder& crosscoder, const TaskSpec& task) {
  auto skip = [&](const std::string& reason) {
    status_[task.name] = {{"state", "skipped"}, {"reason", reason}};
  };
  try {
    const auto steps = crosscoder.steps();
    const int64_t T = int64_t(steps.size()), d = crosscoder.options().d_model;
    const std::size_t rows = task.token_ids.size();
    SnapshotTable snapshots(store_);
    std::vector<std::vector<float>> activations, gradients;
    std::vector<double> metric;
    for (const uint64_t step : steps) {
      const auto x = snapshots.meta({run_, tap_, step, ArrayKind::kTaskActivations, task.name});
      const auto g = snapshots.meta({run_, tap_, step, ArrayKind::kTaskGradient, task.name});
      if (auto why = missing(x, "activations", step, rows, d)) return skip(*why);
      if (auto why = missing(g, "gradient", step, rows, d)) return skip(*why);
      activations.push_back(snapshots.read_f32(*x));
      gradients.push_back(snapshots.read_f32(*g));
      double value = NAN;
      for (const auto& [name, v] : x->scalars)
        if (name == "task." + task.name) value = v;
      metric.push_back(value);
    }
    std::vector<const float*> x_ptr, g_ptr;
    std::vector<double> linear_total;
    for (int64_t t = 0; t < T; ++t) {
      x_ptr.push_back(activations[t].data());
      g_ptr.push_back(gradients[t].data());
      double dot = 0;
      for (std::size_t k = 0; k < activations[t].size(); ++k) dot += double(activations[t][k]) * gradients[t][k];
      linear_total.push_back(dot);
    }
    AttributionRecord record;
    record.steps = steps;
    record.metric = std::move(metric);
    record.linear_total = std::move(linear_total);
    record.n_features = uint32_t(crosscoder.options().n_features);
    record.values = crosscoder.attributions(x_ptr, g_ptr, int64_t(rows));
    record.computed_unix_ms = unix_now_ms();
    AttributionTable(store_).put(run_, tap_, task.name, record);
    covered_[task.name] = steps;
    status_[task.name] = {{"state", "computed"}, {"snapshots", T}};
  } catch (const std::exception& e) {
    // A bad array must not stop the crosscoder: the task waits for the next update.
    spdlog::warn("attribution {}/{} task {}: {}", run_, tap_, task.name, e.what());
    skip(e.what());
  }
}

}  // namespace cw
