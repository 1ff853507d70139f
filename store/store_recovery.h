// A store that cannot be opened, and its repair. Store::open throws
// StoreOpenError (a StoreError) saying why and what to do; the daemon exits
// with a code of its own for each problem a restart cannot fix
// (daemon/exit_codes.h), so systemd does not restart it in a loop.
#ifndef CW_STORE_STORE_RECOVERY_H_
#define CW_STORE_STORE_RECOVERY_H_

#include <cstdint>
#include <string>

#include "store/store.h"

namespace cw {

enum class StoreProblem {
  kOther = 0,    // anything else (permissions, a full disk...)
  kCorrupt,      // RocksDB reports corruption, or a file it needs is missing
  kLocked,       // another process holds the store's LOCK
  kNewerFormat,  // written by a newer conceptwatch
};

class StoreOpenError : public StoreError {
 public:
  StoreOpenError(const std::string& what, StoreProblem problem) : StoreError(what), problem_(problem) {}
  StoreProblem problem() const { return problem_; }

 private:
  StoreProblem problem_;
};

struct StoreRepair {
  std::string backup_dir;     // the files as they were before (hard links)
  uint64_t bytes_before = 0;  // the directory's files
  uint64_t bytes_after = 0;
  double seconds = 0;
};

// Repairs the store in `dir`, which no process may have open: first links
// every file into `dir`.before-repair (refused if that exists), then opens
// it with RocksDB's best-efforts recovery, which goes back to the newest
// MANIFEST in the directory whose table and blob files are all there and
// intact (a CURRENT that names a missing MANIFEST, a missing or damaged
// table file): records written after that point, and those only in the WAL,
// are not recovered. For a store Store::open calls corrupt. Throws
// StoreError, e.g. when no MANIFEST can be read.
StoreRepair repair_store(const std::string& dir);

}  // namespace cw

#endif  // CW_STORE_STORE_RECOVERY_H_
