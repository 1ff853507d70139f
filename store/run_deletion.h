// Deleting a run: every record the store keeps for it, in every family
// (its run and probe records, arrays, crosscoder states, metrics,
// trajectories, events, attribution, transitions), in one atomic batch,
// and the row files streamed crosscoders read (store/row_files.h).
// Afterwards the run is unknown and its name may be used afresh. The
// caller stops whatever writes the run first (conceptwatchd: the run's
// crosscoder workers and its partial arrays; docs/SECURITY.md).
#ifndef CW_STORE_RUN_DELETION_H_
#define CW_STORE_RUN_DELETION_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "store/store.h"

namespace cw {

struct RunDeletion {
  std::string run;
  uint64_t arrays = 0;          // stored arrays: probe activations, task activations and gradients
  uint64_t array_bytes = 0;     // their bytes
  uint64_t records = 0;         // every other key of the run, all families together
  uint64_t disk_bytes_before = 0;
  uint64_t disk_bytes_after = 0;  // after compacting the run's key ranges
  double seconds = 0;

  nlohmann::json to_json() const;
};

// Deletes `run`; nullopt (and nothing written) for a run the store does not
// know. Throws StoreError when the store cannot be written.
std::optional<RunDeletion> delete_run(Store& store, const std::string& run);

}  // namespace cw

#endif  // CW_STORE_RUN_DELETION_H_
