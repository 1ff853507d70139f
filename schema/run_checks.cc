#include "schema/run_checks.h"

namespace cw {

std::string check_run(const RunDescription& run) {
  if (auto error = check_name("run id", run.run); !error.empty()) return error;
  if (run.taps.empty()) return "no taps";
  for (const auto& tap : run.taps) {
    if (auto error = check_name("tap name", tap.name); !error.empty()) return error;
    if (tap.d_model == 0) return "tap '" + tap.name + "' has d_model 0";
  }
  const auto& probe = run.probe;
  if (probe.token_ids.empty() || probe.sequence_length == 0 || probe.token_ids.size() % probe.sequence_length != 0) {
    return "the probe set must be a non-empty whole number of sequences of sequence_length tokens";
  }
  for (const auto& task : run.tasks) {
    if (auto error = check_name("task name", task.name); !error.empty()) return error;
    if (task.token_ids.empty()) return "task '" + task.name + "' has no tokens";
  }
  return {};
}

std::optional<ShapeProblem> check_snapshot_shape(const RunDescription& run, uint64_t n_probe_tokens,
                                                 const SnapshotMeta& meta) {
  const SnapshotKey& key = meta.key;
  const TapSpec* tap = run.find_tap(key.tap);
  if (!tap) return ShapeProblem{wire::ErrorCode::UNKNOWN_TAP, "tap '" + key.tap + "' is not registered for run '" + run.run + "'"};
  uint64_t expected_tokens = n_probe_tokens;
  if (key.kind != ArrayKind::kProbeActivations) {
    const TaskSpec* task = run.find_task(key.task);
    if (!task) return ShapeProblem{wire::ErrorCode::BAD_SHAPE, "task '" + key.task + "' is not registered"};
    expected_tokens = task->token_ids.size();
  }
  if (meta.d_model != tap->d_model || meta.n_tokens != expected_tokens) {
    return ShapeProblem{wire::ErrorCode::BAD_SHAPE, "shape [" + std::to_string(meta.n_tokens) + " x " +
                                                        std::to_string(meta.d_model) + "] does not match [" +
                                                        std::to_string(expected_tokens) + " x " +
                                                        std::to_string(tap->d_model) + "]"};
  }
  return std::nullopt;
}

}  // namespace cw
