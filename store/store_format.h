// The store format: how the values of the analysis families (metrics,
// trajectories, events, attribution, transitions) are encoded, and the
// migration between formats (docs/STORE.md, "Record format").
//
//   format 1  no `meta` record: metrics, events and transitions JSON text,
//             trajectories and attribution ad-hoc binary (host
//             little-endian, their layouts told apart by flags and sizes).
//   format 2  every value a Cap'n Proto record (schema/conceptwatch.capnp)
//             whose `version` is the format that wrote it.
//
// Store::open runs the migration on a read-write open of an older store; a
// read-only open (the CLI with the daemon down) reads the values as they are.
#ifndef CW_STORE_STORE_FORMAT_H_
#define CW_STORE_STORE_FORMAT_H_

#include <cstdint>

#include "store/store.h"

namespace cw {

struct StoreFormatInfo {
  uint16_t version = 1;          // 1: the store has no format record
  uint16_t migrated_from = 0;    // 0: created in this format
  uint64_t migrated_unix_ms = 0;
};

// The store's format record.
StoreFormatInfo read_store_format(const Store& store);
// Records that the store is in Store::kFormat, migrated from `from` (0: a
// new store).
void write_store_format(Store& store, uint16_t from);

// Rewrites every value of the analysis families from format `from` into
// the current one and records the format, all in one atomic batch: a
// migration cut short leaves the store as it was, and the next open runs
// it again. Throws StoreError (nothing written) on a value it cannot read.
StoreMigration migrate_store_format(Store& store, uint16_t from);

// Throws StoreError if a record's version is newer than this build reads.
void check_record_version(uint16_t version, const char* what);

}  // namespace cw

#endif  // CW_STORE_STORE_FORMAT_H_
