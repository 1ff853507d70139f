// The conceptwatch store: one RocksDB database with a column family per kind
// of record (see docs/STORE.md for the key layout of each).
#ifndef CW_STORE_STORE_H_
#define CW_STORE_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cw {

enum class Family : int {
  kRuns = 0,       // run -> RunRecord
  kProbes,         // run -> ProbeSet
  kSnapshotMeta,   // snapshot key -> SnapshotRecord
  kSnapshotData,   // snapshot key -> raw array bytes (RocksDB blob files)
  kCrosscoder,     // crosscoder state per (run, tap)
  kMetrics,        // crosscoder metrics per (run, tap, snapshot)
  kTrajectories,   // per-feature measures per (run, tap, feature, snapshot)
  kEvents,         // emergence and phase-transition events
  kAttribution,    // per-feature task attribution per (run, tap, task)
  kTransitions,    // the current phase-transition estimates per (run, tap)
  kMeta,           // "format" -> StoreFormatRecord (store/store_format.h)
  kCount
};
const char* family_name(Family family);

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A write RocksDB refused: a full disk, an I/O error, or a store stopped by
// such an error earlier (every write fails until Store::resume succeeds).
class StoreWriteError : public StoreError {
 public:
  using StoreError::StoreError;
};

// Whether the store takes writes (Store::write_state).
struct StoreWriteState {
  bool writable = true;
  bool no_space = false;       // the last refused write ran out of disk space
  std::string error;           // why the last write was refused, while not writable
  std::string resume_error;    // why the last resume() failed, while not writable
  uint64_t since_unix_ms = 0;  // when writes began to fail, while not writable
  uint64_t failed_writes = 0;  // writes refused since the store was opened
  uint64_t resumed = 0;        // times writes came back since the store was opened
};

// What a read-write open did to a store of an older format
// (store/store_format.h); from_format 0: nothing to do.
struct StoreMigration {
  uint16_t from_format = 0;
  uint64_t records = 0;  // values rewritten
  double seconds = 0;
};

struct StoreOptions {
  bool read_only = false;   // no lock taken: readable while the daemon runs
  bool sync_writes = true;  // fsync the WAL before a write returns
};

// Several writes applied atomically.
class StoreBatch {
 public:
  StoreBatch();
  ~StoreBatch();
  void put(Family family, std::string_view key, std::string_view value);
  // Like put() without copying `value`, which must stay valid until the
  // batch is written: for large arrays, copied once, into RocksDB.
  void put_unowned(Family family, std::string_view key, std::string_view value);
  void erase(Family family, std::string_view key);
  // Erases every key that starts with `prefix` (one range tombstone, not a
  // delete per key: a run's arrays are erased without reading them).
  void erase_prefix(Family family, std::string_view prefix);

 private:
  friend class Store;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class Store {
 public:
  // RocksDB keeps a value's length in 32 bits: longer values are refused
  // (write() throws StoreError naming this limit).
  static constexpr std::size_t kMaxValueBytes = 0xFFFFFFFFu;

  // The format of the values of the analysis families (docs/STORE.md):
  // every value a Cap'n Proto record carrying this version.
  static constexpr uint16_t kFormat = 2;

  // Opens (creating if missing, unless read-only) the store in `dir`. A
  // read-write open migrates a store of an older format to kFormat first
  // (in one atomic batch); a read-only open reads it as it is. Throws
  // StoreError with the reason, also for a store of a newer format.
  static std::unique_ptr<Store> open(const std::string& dir, const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  bool get(Family family, std::string_view key, std::string* value) const;
  void put(Family family, std::string_view key, std::string_view value);
  void write(StoreBatch& batch);
  // Visits the records whose key starts with `prefix`, in key order, until
  // `visit` returns false.
  void scan(Family family, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Writes RocksDB refuses throw StoreWriteError and make the store not
  // writable until resume() succeeds; a read-only store is never writable.
  // Thread-safe.
  StoreWriteState write_state() const;
  // After a refused write: reopens the database (RocksDB replays its log,
  // which holds every write that succeeded, and writes it to table files),
  // once the disk has about the log's size free; if that open fails the
  // store stays readable. Returns whether the store is writable. Cheap when
  // it is; never throws for a failed reopen. Waits for reads and writes in
  // progress on other threads.
  bool resume();

  // Compacts the keys that start with `prefix`, so that the space of what
  // erase_prefix() erased (and of blob files left with nothing live) is
  // given back now rather than whenever RocksDB compacts on its own.
  // Setting `*canceled` (when given) stops it early, without an error: what
  // is left is compacted by RocksDB in time.
  void compact(Family family, std::string_view prefix, std::atomic<bool>* canceled = nullptr);

  // Bytes the store's files take on disk.
  uint64_t disk_bytes() const;
  const std::string& dir() const;
  bool read_only() const;
  // The format the values are in: kFormat, or older on a read-only open
  // of a store no daemon has migrated yet.
  uint16_t format() const;
  const StoreMigration& migration() const;

 private:
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace cw

#endif  // CW_STORE_STORE_H_
