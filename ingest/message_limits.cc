#include "ingest/message_limits.h"

namespace cw {
namespace {

// `key` is the limit's name in [ingest], so the message says what to raise.
std::string too_many(const char* what, const char* key, uint64_t count, uint64_t limit) {
  return std::to_string(count) + " " + what + " exceed the daemon's limit of " + std::to_string(limit) + " ([ingest] " +
         key + ")";
}

}  // namespace

std::string check_hello_counts(wire::Hello::Reader hello, const IngestLimits& limits) {
  if (hello.getTaps().size() > limits.max_taps) return too_many("taps", "max_taps", hello.getTaps().size(), limits.max_taps);
  if (hello.getTasks().size() > limits.max_tasks) return too_many("tasks", "max_tasks", hello.getTasks().size(), limits.max_tasks);
  const auto probe = hello.getProbe();
  if (probe.getTokenIds().size() > limits.max_probe_tokens)
    return too_many("probe tokens", "max_probe_tokens", probe.getTokenIds().size(), limits.max_probe_tokens);
  if (probe.getVocabulary().size() > limits.max_vocabulary)
    return too_many("vocabulary entries", "max_vocabulary", probe.getVocabulary().size(), limits.max_vocabulary);
  // Each task's tokens are kept with the run: all of them count, like the probe's.
  uint64_t task_tokens = 0;
  for (auto task : hello.getTasks()) task_tokens += task.getTokenIds().size();
  if (task_tokens > limits.max_probe_tokens)
    return too_many("task tokens", "max_probe_tokens", task_tokens, limits.max_probe_tokens);
  return {};
}

std::string check_begin_counts(wire::SnapshotBegin::Reader begin, const IngestLimits& limits) {
  if (begin.getScalars().size() > limits.max_scalars)
    return too_many("scalars", "max_scalars", begin.getScalars().size(), limits.max_scalars);
  return {};
}

}  // namespace cw
