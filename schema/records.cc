#include "schema/records.h"

#include "schema/checksum.h"

namespace cw {

uint64_t ProbeSet::hash() const { return probe_hash(token_ids, sequence_length); }

const TapSpec* RunDescription::find_tap(const std::string& name) const {
  for (const auto& tap : taps)
    if (tap.name == name) return &tap;
  return nullptr;
}

const TaskSpec* RunDescription::find_task(const std::string& name) const {
  for (const auto& task : tasks)
    if (task.name == name) return &task;
  return nullptr;
}

const char* array_kind_name(ArrayKind kind) {
  switch (kind) {
    case ArrayKind::kProbeActivations: return "probe";
    case ArrayKind::kTaskActivations: return "task-activations";
    case ArrayKind::kTaskGradient: return "task-gradient";
  }
  return "?";
}

std::string SnapshotKey::describe() const {
  std::string text = run + "/" + tap + "@" + std::to_string(step);
  if (kind != ArrayKind::kProbeActivations) text += std::string(" ") + array_kind_name(kind) + ":" + task;
  return text;
}

bool SnapshotKey::operator==(const SnapshotKey& other) const {
  return run == other.run && tap == other.tap && step == other.step && kind == other.kind && task == other.task;
}

}  // namespace cw
