#include "store/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "store/store_format.h"
#include "store/store_recovery.h"

namespace cw {
namespace {

const char* const kFamilyNames[] = {"runs",    "probes",  "snapshot_meta", "snapshot_data",
                                    "crosscoder", "metrics", "trajectories", "events",
                                    "attribution", "transitions", "meta"};
static_assert(sizeof(kFamilyNames) / sizeof(kFamilyNames[0]) == static_cast<int>(Family::kCount));

void check(const rocksdb::Status& status, const std::string& what) {
  if (!status.ok()) throw StoreError(what + ": " + status.ToString());
}

// RocksDB's own messages, warnings and worse, go to stderr (where the
// daemon logs too; the journal under systemd), not to a LOG file in the
// data directory: on a full disk that file's failed append made RocksDB's
// next message abort the process in an assertion of Debian's RocksDB 7.8
// (WritableFileWriter::AssertFalseAndGetStatusForPrevError).
class StderrLogger : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[2048];
    std::vsnprintf(line, sizeof line, format, ap);
    std::fprintf(stderr, "rocksdb: %s\n", line);
  }
};

rocksdb::ColumnFamilyOptions family_options(int index) {
  rocksdb::ColumnFamilyOptions options;
  if (index == static_cast<int>(Family::kSnapshotData)) {
    // Activation arrays are large and incompressible: keep them out of the
    // LSM tree in blob files, uncompressed, so compaction never rewrites them.
    options.enable_blob_files = true;
    options.min_blob_size = 4096;
    options.blob_file_size = 256ull << 20;
    options.blob_compression_type = rocksdb::kNoCompression;
    options.compression = rocksdb::kNoCompression;
    options.write_buffer_size = 256ull << 20;
    options.enable_blob_garbage_collection = true;
  }
  return options;
}

// The error for a failed open, with what to do about it. RocksDB says
// Corruption for a damaged file, but IOError "No such file" for a file the
// MANIFEST (or CURRENT) names and that is gone: both are a damaged store.
StoreOpenError open_error(const std::string& dir, const rocksdb::Status& status) {
  const std::string text = status.ToString();
  if (status.IsIOError() && text.find("lock") != std::string::npos)
    return StoreOpenError("cannot open store '" + dir + "': " + text +
                          " (another conceptwatchd, or another program, has this data directory open: stop it, or "
                          "give this daemon a --data-dir of its own)",
                      StoreProblem::kLocked);
  if (status.IsCorruption() || (status.IsIOError() && text.find("No such file") != std::string::npos))
    return StoreOpenError("store '" + dir + "' is corrupt (rocksdb: " + text +
                          "): stop anything using it, then run `conceptwatch repair --data-dir " + dir +
                          "` (back to its newest consistent state; the files as they were kept in " + dir +
                          ".before-repair), or move the directory aside to start with an empty store",
                      StoreProblem::kCorrupt);
  return StoreOpenError("cannot open store '" + dir + "': " + text, StoreProblem::kOther);
}

std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors() {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) descriptors.emplace_back(kFamilyNames[i], family_options(i));
  return descriptors;
}

// The write-ahead log files' bytes (NNNNNN.log; the info log is LOG).
uint64_t wal_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error))
    if (entry.path().extension() == ".log" && entry.is_regular_file(error)) total += entry.file_size(error);
  return total;
}

// The first key after every key that starts with `prefix` ("" when there
// is none: the prefix is all 0xff bytes or empty).
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && uint8_t(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = char(uint8_t(end.back()) + 1);
  return end;
}

uint64_t bytes_in(const std::string& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error))
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  return total;
}

}  // namespace

const char* family_name(Family family) { return kFamilyNames[static_cast<int>(family)]; }

struct StoreBatch::Rep {
  // Family handles are resolved when the batch is written.
  struct Op {
    Family family;
    std::string key;
    std::string owned;
    std::string_view borrowed;  // put_unowned: the caller's bytes
    bool erase;
    bool erase_prefix = false;  // erase [key, prefix_end(key))
    std::string_view value() const { return borrowed.data() ? borrowed : std::string_view(owned); }
  };
  std::vector<Op> ops;
};

StoreBatch::StoreBatch() : rep_(std::make_unique<Rep>()) {}
StoreBatch::~StoreBatch() = default;
void StoreBatch::put(Family family, std::string_view key, std::string_view value) {
  rep_->ops.push_back({family, std::string(key), std::string(value), {}, false});
}
void StoreBatch::put_unowned(Family family, std::string_view key, std::string_view value) {
  rep_->ops.push_back({family, std::string(key), {}, value.data() ? value : std::string_view("", 0), false});
}
void StoreBatch::erase(Family family, std::string_view key) {
  rep_->ops.push_back({family, std::string(key), {}, {}, true});
}
void StoreBatch::erase_prefix(Family family, std::string_view prefix) {
  const std::string end = prefix_end(prefix);
  if (prefix.empty() || end.empty()) throw StoreError("erase_prefix needs a prefix with a byte below 0xff");
  rep_->ops.push_back({family, std::string(prefix), {}, {}, true, true});
}

struct Store::Rep {
  std::string dir;
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // index = Family
  uint16_t format = 0;
  StoreMigration migration;
  mutable std::mutex write_mu;  // guards write_state
  StoreWriteState write_state;

  // Shared by every use of `db`, exclusive while resume() reopens it.
  mutable std::shared_mutex db_mu;

  rocksdb::ColumnFamilyHandle* handle(Family family) const { return handles[static_cast<int>(family)]; }
  rocksdb::DB& live_db() const {
    if (!db) throw StoreError("store '" + dir + "' is closed: it could not be opened again after a failed write (status shows why)");
    return *db;
  }
  rocksdb::Status open_db(bool read_only);
  void close_db(bool flush);
  rocksdb::WriteOptions write_options() const {
    rocksdb::WriteOptions write;
    write.sync = options.sync_writes;
    return write;
  }
  // Throws StoreWriteError for a refused write, after noting it.
  void check_write(const rocksdb::Status& status, const std::string& what) {
    if (status.ok()) return;
    const std::string error = what + ": " + status.ToString();
    if (options.read_only) throw StoreWriteError(what + ": the store is open read-only");
    {
      std::lock_guard<std::mutex> lock(write_mu);
      if (write_state.writable)
        write_state.since_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
      write_state.writable = false;
      write_state.no_space = status.IsNoSpace() || status.ToString().find("No space left") != std::string::npos;
      write_state.error = error;
      ++write_state.failed_writes;
    }
    throw StoreWriteError(error);
  }
  // RocksDB does not flush at close (the WAL holds what is not in table
  // files yet), and a repair (repair_store) does not replay the WAL:
  // flushed, a cleanly stopped store loses nothing to a repair. Not after a
  // refused write: RocksDB then has stopped writing (a flush would abort in
  // an assertion of Debian's build), and the WAL holds everything acked.
  ~Rep() { close_db(!options.read_only && write_state.writable); }
};

rocksdb::Status Store::Rep::open_db(bool read_only) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !read_only;
  db_options.create_missing_column_families = !read_only;
  db_options.max_total_wal_size = 1ull << 30;
  db_options.info_log_level = rocksdb::WARN_LEVEL;
  db_options.info_log = std::make_shared<StderrLogger>();

  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = family_descriptors();
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  if (read_only) {
    // A store written before a family existed lacks it until the daemon
    // opens it read-write: open the families it has; the others read empty.
    std::vector<std::string> present;
    rocksdb::DB::ListColumnFamilies(db_options, dir, &present);
    std::vector<rocksdb::ColumnFamilyDescriptor> existing;
    for (const auto& descriptor : descriptors)
      if (std::find(present.begin(), present.end(), descriptor.name) != present.end()) existing.push_back(descriptor);
    if (existing.size() < descriptors.size() && !present.empty()) {
      status = rocksdb::DB::OpenForReadOnly(db_options, dir, existing, &opened, &raw);
      std::vector<rocksdb::ColumnFamilyHandle*> all;
      std::size_t next = 0;
      for (const auto& descriptor : descriptors)
        all.push_back(next < existing.size() && existing[next].name == descriptor.name && status.ok() ? opened[next++]
                                                                                                   : nullptr);
      if (status.ok()) opened = std::move(all);
    } else {
      status = rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &opened, &raw);
    }
  } else {
    std::error_code ignored;
    std::filesystem::create_directories(dir, ignored);
    status = rocksdb::DB::Open(db_options, dir, descriptors, &opened, &raw);
  }
  if (!status.ok()) return status;
  db.reset(raw);
  // opened[0] is the default family, which we keep only to close it.
  db->DestroyColumnFamilyHandle(opened[0]);
  handles.assign(opened.begin() + 1, opened.end());
  return status;
}

void Store::Rep::close_db(bool flush) {
  if (!db) return;
  if (flush && !handles.empty()) db->Flush(rocksdb::FlushOptions(), handles);
  for (auto* handle : handles)
    if (handle) db->DestroyColumnFamilyHandle(handle);
  handles.clear();
  db->Close();
  db.reset();
}

std::unique_ptr<Store> Store::open(const std::string& dir, const StoreOptions& options) {
  auto rep = std::make_unique<Rep>();
  rep->dir = dir;
  rep->options = options;
  if (options.read_only) {
    rep->write_state.writable = false;
    rep->write_state.error = "the store is open read-only";
  }

  const bool existed = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT");
  if (options.read_only && !existed) {
    throw StoreError("no conceptwatch store in '" + dir + "' (start conceptwatchd with --data-dir " + dir +
                     ", or pass the right --data-dir)");
  }
  if (const rocksdb::Status status = rep->open_db(options.read_only); !status.ok()) throw open_error(dir, status);
  std::unique_ptr<Store> store(new Store(std::move(rep)));
  Rep& opened = *store->rep_;
  opened.format = existed ? read_store_format(*store).version : kFormat;
  if (opened.format > kFormat) {
    throw StoreOpenError("store '" + dir + "' is in format " + std::to_string(opened.format) +
                     ", newer than this conceptwatch reads (" + std::to_string(kFormat) + "): use a newer conceptwatch",
                     StoreProblem::kNewerFormat);
  }
  if (!options.read_only && !existed) write_store_format(*store, 0);
  if (!options.read_only && opened.format < kFormat) {
    opened.migration = migrate_store_format(*store, opened.format);
    opened.format = kFormat;
  }
  return store;
}

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;

bool Store::get(Family family, std::string_view key, std::string* value) const {
  std::shared_lock<std::shared_mutex> lock(rep_->db_mu);
  rocksdb::DB& db = rep_->live_db();
  if (!rep_->handle(family)) return false;  // a family this (read-only) store lacks
  rocksdb::PinnableSlice slice;
  auto status = db.Get(rocksdb::ReadOptions(), rep_->handle(family), rocksdb::Slice(key.data(), key.size()), &slice);
  if (status.IsNotFound()) return false;
  check(status, std::string("read from ") + family_name(family));
  value->assign(slice.data(), slice.size());
  return true;
}

void Store::put(Family family, std::string_view key, std::string_view value) {
  std::shared_lock<std::shared_mutex> lock(rep_->db_mu);
  rep_->check_write(rep_->live_db().Put(rep_->write_options(), rep_->handle(family), rocksdb::Slice(key.data(), key.size()),
                                  rocksdb::Slice(value.data(), value.size())),
                    std::string("write to ") + family_name(family));
}

void Store::write(StoreBatch& batch) {
  // Reserved up front: growing a batch re-copies the large values already in it.
  std::size_t reserve = 64;
  for (const auto& op : batch.rep_->ops) reserve += op.key.size() + op.value().size() + 32;
  rocksdb::WriteBatch write_batch(reserve);
  // Each operation's status is checked: RocksDB refuses a value of 2^32
  // bytes or more at Put, and a batch missing that value would otherwise be
  // written (and acknowledged) with its metadata alone.
  for (const auto& op : batch.rep_->ops) {
    const std::string what = std::string(op.erase ? "delete in " : "write to ") + family_name(op.family);
    if (op.value().size() > kMaxValueBytes)
      throw StoreError(what + ": a value of " + std::to_string(op.value().size()) + " bytes exceeds the store's limit of " +
                       std::to_string(kMaxValueBytes) + " bytes per value");
    check(op.erase_prefix ? write_batch.DeleteRange(rep_->handle(op.family), op.key, prefix_end(op.key))
          : op.erase      ? write_batch.Delete(rep_->handle(op.family), op.key)
                          : write_batch.Put(rep_->handle(op.family), op.key,
                                     rocksdb::Slice(op.value().data(), op.value().size())),
          what);
  }
  std::shared_lock<std::shared_mutex> lock(rep_->db_mu);
  rep_->check_write(rep_->live_db().Write(rep_->write_options(), &write_batch), "batch write");
}

void Store::scan(Family family, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::shared_lock<std::shared_mutex> lock(rep_->db_mu);
  rocksdb::DB& db = rep_->live_db();
  if (!rep_->handle(family)) return;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), rep_->handle(family)));
  const rocksdb::Slice start(prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  check(it->status(), std::string("scan of ") + family_name(family));
}

void Store::compact(Family family, std::string_view prefix, std::atomic<bool>* canceled) {
  std::shared_lock<std::shared_mutex> lock(rep_->db_mu);  // not while resume() reopens the database
  if (!rep_->handle(family)) return;
  const std::string end = prefix_end(prefix);
  const rocksdb::Slice begin_slice(prefix.data(), prefix.size()), end_slice(end);
  rocksdb::CompactRangeOptions options;
  // Down to the last level, where range tombstones and what they cover are
  // dropped; blob files whose values are all gone are then deleted.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  // Blob files of every age: a live array of another run that shares a
  // blob file with the erased ones is moved to a new file (only those whose
  // keys the compaction reads), so the old file can go.
  options.blob_garbage_collection_policy = rocksdb::BlobGarbageCollectionPolicy::kForce;
  options.blob_garbage_collection_age_cutoff = 1.0;
  options.canceled = canceled;
  const rocksdb::Status status =
      rep_->live_db().CompactRange(options, rep_->handle(family), &begin_slice, end.empty() ? nullptr : &end_slice);
  if (canceled && canceled->load() && status.IsIncomplete()) return;  // stopped as asked: nothing failed
  // A compaction writes files: a full disk makes the store not writable, as a refused write does.
  rep_->check_write(status, std::string("compaction of ") + family_name(family));
}

// RocksDB's RepairDB is not used: it drops blob file references (the
// snapshot arrays; facebook/rocksdb#13884, #13090) and the unflushed WAL of
// every family but the default one (#5073). Best-efforts recovery instead
// picks the newest MANIFEST in the directory whose table and blob files are
// all present and intact, and writes a new one; the WAL is not replayed.
StoreRepair repair_store(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(dir) / "IDENTITY")) throw StoreError("no conceptwatch store in '" + dir + "' to repair");
  StoreRepair result;
  result.backup_dir = dir + ".before-repair";
  std::error_code error;
  if (fs::exists(result.backup_dir, error))
    throw StoreError("a backup from an earlier repair is in the way: move '" + result.backup_dir + "' elsewhere first");
  // Hard links: RocksDB never changes a table or blob file in place, so the
  // backup costs no space, and keeps every file even if recovery decides a
  // file is no longer referenced and deletes it.
  fs::create_directories(result.backup_dir);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = fs::path(result.backup_dir) / entry.path().filename();
    fs::create_hard_link(entry.path(), target, error);
    if (error) fs::copy_file(entry.path(), target);
  }
  result.bytes_before = bytes_in(dir);
  const auto start = std::chrono::steady_clock::now();
  rocksdb::DBOptions db_options;
  db_options.best_efforts_recovery = true;
  db_options.create_missing_column_families = true;
  db_options.info_log_level = rocksdb::WARN_LEVEL;
  db_options.info_log = std::make_shared<StderrLogger>();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(db_options, dir, family_descriptors(), &handles, &db);
  if (!status.ok())
    throw StoreError("repair of store '" + dir + "' failed: " + status.ToString() + " (the files as they were are in '" +
                     result.backup_dir + "')");
  db->Flush(rocksdb::FlushOptions(), handles);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  db->Close();
  delete db;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.bytes_after = bytes_in(dir);
  return result;
}

StoreWriteState Store::write_state() const {
  std::lock_guard<std::mutex> lock(rep_->write_mu);
  return rep_->write_state;
}

bool Store::resume() {
  if (rep_->options.read_only) return false;
  if (write_state().writable) return true;
  // Not DB::Resume(): after a failed append to the write-ahead log (a full
  // disk), RocksDB 7.8 as Debian builds it aborts in Resume's flush
  // (WritableFileWriter::AssertFalseAndGetStatusForPrevError). The store is
  // reopened instead: RocksDB replays the log up to the failed write, so
  // everything acknowledged is kept, then flushes what it replayed, which
  // needs about the log's size free: tried only once that much is.
  const uint64_t needed = wal_bytes(rep_->dir) + (1u << 20);
  std::error_code error;
  const std::filesystem::space_info space = std::filesystem::space(rep_->dir, error);
  if (!error && space.available < needed) {
    std::lock_guard<std::mutex> lock(rep_->write_mu);
    rep_->write_state.resume_error = "waiting for " + std::to_string(needed) + " bytes free on its disk (" +
                                     std::to_string(space.available) + " now)";
    return false;
  }
  std::unique_lock<std::shared_mutex> exclusive(rep_->db_mu);
  rep_->close_db(false);
  const rocksdb::Status status = rep_->open_db(false);
  std::lock_guard<std::mutex> lock(rep_->write_mu);
  StoreWriteState& state = rep_->write_state;
  if (!status.ok()) {
    // Readable meanwhile, so that queries go on; the next resume() retries.
    const rocksdb::Status read = rep_->open_db(true);
    state.resume_error = "reopening: " + status.ToString() + (read.ok() ? "" : "; read-only too: " + read.ToString());
    return false;
  }
  const uint64_t failed = state.failed_writes, resumed = state.resumed + 1;
  state = StoreWriteState();
  state.failed_writes = failed;
  state.resumed = resumed;
  return true;
}

uint64_t Store::disk_bytes() const { return bytes_in(rep_->dir); }

const std::string& Store::dir() const { return rep_->dir; }
bool Store::read_only() const { return rep_->options.read_only; }
uint16_t Store::format() const { return rep_->format; }
const StoreMigration& Store::migration() const { return rep_->migration; }

}  // namespace cw
