// Stored snapshots: metadata and the raw activation array, written together.
#ifndef CW_STORE_SNAPSHOT_TABLE_H_
#define CW_STORE_SNAPSHOT_TABLE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/records.h"
#include "store/store.h"

namespace cw {

// Key: run \0 tap \0 kind task \0 step(be64); see docs/STORE.md.
std::string snapshot_key(const SnapshotKey& key);

class SnapshotTable {
 public:
  explicit SnapshotTable(Store& store) : store_(store) {}

  // Writes metadata and data in one synced batch.
  void put(const SnapshotMeta& meta, std::string_view data);
  std::optional<SnapshotMeta> meta(const SnapshotKey& key) const;
  // Reads the raw bytes of a stored array; false if absent.
  bool read(const SnapshotKey& key, std::string* data) const;
  // The array of `meta` as float32 [n_tokens × d_model], whatever dtype it
  // was stored in. Throws StoreError if its data is missing.
  std::vector<float> read_f32(const SnapshotMeta& meta) const;
  // Probe-activation snapshots of a run (all taps, or one), in (tap, step) order.
  std::vector<SnapshotMeta> list(const std::string& run, const std::string& tap = "") const;
  // Every stored array of a run, task arrays included.
  std::vector<SnapshotMeta> list_all(const std::string& run) const;

 private:
  Store& store_;
};

}  // namespace cw

#endif  // CW_STORE_SNAPSHOT_TABLE_H_
