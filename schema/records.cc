#include "schema/records.h"

#include "schema/checksum.h"
#include "schema/run_checks.h"

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
  // Keys come from the wire before their names are checked: a name of
  // megabytes, a newline or bytes that are not UTF-8 must not reach an error
  // reply or a log line as they are. Valid names (<= 200 bytes) print as they are.
  constexpr std::size_t kShown = 200;
  std::string text = printable_name(run, kShown) + "/" + printable_name(tap, kShown) + "@" + std::to_string(step);
  if (kind != ArrayKind::kProbeActivations)
    text += std::string(" ") + array_kind_name(kind) + ":" + printable_name(task, kShown);
  return text;
}

bool SnapshotKey::operator==(const SnapshotKey& other) const {
  return run == other.run && tap == other.tap && step == other.step && kind == other.kind && task == other.task;
}

}  // namespace cw
