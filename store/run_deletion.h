// Deleting a run: every record the store keeps for it, in every family
// (its run and probe records, arrays, crosscoder states, metrics,
// trajectories, events, attribution, transitions), in one atomic batch,
// and the row files streamed crosscoders read (store/row_files.h).
// Afterwards the run is unknown and its name may be used afresh. The
// caller stops whatever writes the run first (conceptwatchd: the run's
// crosscoder workers and its partial arrays; docs/SECURITY.md).
#ifndef CW_STORE_RUN_DELETION_H_
#define CW_STORE_RUN_DELETION_H_

#include <atomic>
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
  // After compacting the run's key ranges, when delete_run compacted them;
  // nullopt when compaction was left to the caller (compact_run).
  std::optional<uint64_t> disk_bytes_after;
  double seconds = 0;

  nlohmann::json to_json() const;
};

enum class Compaction { kNow, kByCaller };

// Deletes `run`; nullopt (and nothing written) for a run the store does not
// know. Throws StoreError when the store cannot be written. The run is gone
// once this returns; the disk space its records took comes back when its
// key ranges are compacted: here (kNow), or by compact_run() later
// (kByCaller: conceptwatchd, which must not hold its ingest thread for it —
// a 704 MiB run took 2.5 s to compact, most of the deletion).
std::optional<RunDeletion> delete_run(Store& store, const std::string& run, Compaction compaction = Compaction::kNow);

// Compacts every family's key range of `run` (after delete_run): what its
// records took on disk is given back. Safe beside reads and writes on other
// threads; throws StoreError as Store::compact does. Setting `*canceled`
// stops it early (Store::compact).
void compact_run(Store& store, const std::string& run, std::atomic<bool>* canceled = nullptr);

}  // namespace cw

#endif  // CW_STORE_RUN_DELETION_H_
