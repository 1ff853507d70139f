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

std::string check_name(const std::string& what, const std::string& name) {
  if (name.empty()) return what + " is empty";
  if (name.size() > 200) return what + " is longer than 200 bytes";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return what + " '" + name + "' contains a control character or '/'";
    }
  }
  return {};
}

}  // namespace cw
