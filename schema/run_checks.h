// The checks of a run description and of a snapshot's shape that both ends
// make: the publisher before it sends anything (so the job hears of a
// mistake at once, as an exception), the daemon on arrival (a peer may be
// another implementation). Limits that are the daemon's configuration
// (largest d_model, probe set) stay with the daemon.
#ifndef CW_SCHEMA_RUN_CHECKS_H_
#define CW_SCHEMA_RUN_CHECKS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "schema/conceptwatch.capnp.h"
#include "schema/records.h"

namespace cw {

// Why `run` cannot be registered, or empty when it can: names, at least one
// tap, non-zero d_model, a probe set of whole sequences, tasks with tokens.
std::string check_run(const RunDescription& run);

struct ShapeProblem {
  wire::ErrorCode code;  // UNKNOWN_TAP or BAD_SHAPE
  std::string message;   // e.g. "tap 'x' is not registered for run 'r'"
};

// Whether `meta` names a tap (and task) of `run` and has their shape:
// d_model of the tap, and n_probe_tokens rows for probe activations (the
// task's token count for a task array). `n_probe_tokens` is passed because
// the daemon keeps runs without their probe tokens.
std::optional<ShapeProblem> check_snapshot_shape(const RunDescription& run, uint64_t n_probe_tokens,
                                                 const SnapshotMeta& meta);

}  // namespace cw

#endif  // CW_SCHEMA_RUN_CHECKS_H_
