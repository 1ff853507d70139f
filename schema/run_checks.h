// The checks of a run description and of a snapshot's metadata that both
// ends make: the publisher before it sends anything (so the job hears of a
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

// Every name that comes over the wire ends up in store keys, file names and
// the daemon's JSON replies, so it must be non-empty, at most 200 bytes,
// valid UTF-8 and free of control characters; names that become key or file
// name parts (run, tap, task) may not contain '/' either, scalar names
// ("train/loss") may. Each returns an error message naming `what`, or empty
// when the name is acceptable.
std::string check_name(const std::string& what, const std::string& name);
std::string check_scalar_name(const std::string& what, const std::string& name);

// `name` for an error message: in quotes, at most 64 bytes of it, with
// control characters and bytes that are not valid UTF-8 written as \xNN, so
// that an error about a bad name is itself valid text of bounded size.
std::string quoted_name(const std::string& name);

// The same without quotes and with a size limit of the caller's: the first
// `max_bytes` of `name`, bad bytes as \xNN, "... (N bytes)" when cut. Every
// valid name (at most 200 bytes) prints unchanged with max_bytes 200.
std::string printable_name(const std::string& name, std::size_t max_bytes);

// Why `run` cannot be registered, or empty when it can: names, at least one
// tap, non-zero d_model, a probe set of whole sequences, tasks with tokens.
std::string check_run(const RunDescription& run);

struct SnapshotProblem {
  wire::ErrorCode code;  // UNKNOWN_TAP, BAD_SHAPE or BAD_REQUEST
  std::string message;   // e.g. "tap 'x' is not registered for run 'r'"
};

// Whether `meta` names a tap (and task) of `run`, has a known kind (a probe
// array names no task: it is stored once per run, tap and step), valid
// scalar names and the shape of its tap: d_model of the tap, and n_probe_tokens rows for probe
// activations (the task's token count for a task array). `n_probe_tokens`
// is passed because the daemon keeps runs without their probe tokens.
std::optional<SnapshotProblem> check_snapshot_meta(const RunDescription& run, uint64_t n_probe_tokens,
                                                   const SnapshotMeta& meta);

}  // namespace cw

#endif  // CW_SCHEMA_RUN_CHECKS_H_
