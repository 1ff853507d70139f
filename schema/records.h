// Plain C++ values for what the wire format carries: runs, probe sets and
// snapshots. Hooks build them, the daemon validates them, the store keeps them.
#ifndef CW_SCHEMA_RECORDS_H_
#define CW_SCHEMA_RECORDS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "schema/dtype.h"

namespace cw {

struct TapSpec {
  std::string name;  // e.g. "blocks.1.resid_post"
  uint32_t d_model = 0;
};

// The fixed probe corpus: the same token sequences at every checkpoint.
struct ProbeSet {
  std::vector<uint32_t> token_ids;  // n_sequences * sequence_length, row-major
  uint32_t sequence_length = 0;
  std::vector<std::string> vocabulary;  // optional: vocabulary[id] is the token's text

  uint64_t n_tokens() const { return token_ids.size(); }
  uint64_t hash() const;  // probe_hash(token_ids, sequence_length)
};

// A task probe: sequences on which the job evaluates a metric and its gradient.
struct TaskSpec {
  std::string name;
  std::vector<uint32_t> token_ids;
  uint32_t sequence_length = 0;
  std::string metric;
};

struct RunDescription {
  std::string run;
  std::vector<TapSpec> taps;
  DType dtype = DType::kF32;
  ProbeSet probe;
  std::vector<TaskSpec> tasks;

  const TapSpec* find_tap(const std::string& name) const;
  const TaskSpec* find_task(const std::string& name) const;
};

enum class ArrayKind : uint8_t { kProbeActivations = 0, kTaskActivations = 1, kTaskGradient = 2 };
constexpr ArrayKind kArrayKinds[] = {ArrayKind::kProbeActivations, ArrayKind::kTaskActivations,
                                     ArrayKind::kTaskGradient};
const char* array_kind_name(ArrayKind kind);

// Identifies one stored array: probe activations of (run, tap, step), or a task array.
struct SnapshotKey {
  std::string run;
  std::string tap;
  uint64_t step = 0;
  ArrayKind kind = ArrayKind::kProbeActivations;
  std::string task;  // empty unless kind is a task array

  std::string describe() const;  // "run/tap@step" (+ " task:name kind")
  bool operator==(const SnapshotKey& other) const;
};

using Scalars = std::vector<std::pair<std::string, double>>;

struct SnapshotMeta {
  SnapshotKey key;
  uint64_t tokens_seen = 0;
  Scalars scalars;
  uint32_t n_tokens = 0;
  uint32_t d_model = 0;
  DType dtype = DType::kF32;
  uint64_t checksum = 0;
  uint64_t received_unix_ms = 0;

  uint64_t bytes() const { return uint64_t(n_tokens) * d_model * dtype_size(dtype); }
};

}  // namespace cw

#endif  // CW_SCHEMA_RECORDS_H_
