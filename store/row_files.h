// Per-snapshot files of probe rows beside the store, for crosscoders that
// stream their activations (crosscoder/row_source.h): a stored array is one
// RocksDB value, which can only be read whole, so a batch of rows from it
// would cost the whole snapshot. The first time a snapshot is streamed its
// array is written out once as raw float32 [n_tokens × d_model]:
//   <store>/row-files/<run hex>/<tap hex>/<step>.<checksum hex>.f32
// and rows are then read with pread(2) into the caller's buffer (no mmap:
// mapped pages count in the process's RSS; pread's go to the page cache,
// which the kernel evicts). The checksum in the name ties a file to the
// array it was written from (a run deleted and sent again gets new files).
// Written on first use, not at ingest: only taps that stream pay the disk,
// and ingest keeps its one synced write. Deleting a run deletes its files
// (store/run_deletion.h); they are otherwise a cache: removing the
// directory is safe while the daemon is stopped.
#ifndef CW_STORE_ROW_FILES_H_
#define CW_STORE_ROW_FILES_H_

#include <cstdint>
#include <functional>
#include <string>

#include "schema/records.h"
#include "store/store.h"

namespace cw {

// <store>/row-files/<run hex>: every row file of `run`.
std::string row_files_dir(const Store& store, const std::string& run);

// Whether `name` (no folder) has a row file's name form as RowFile::open
// writes it: the step in digits, a dot, the checksum in 16 hex digits,
// ".f32". A trainer rank keeps and removes copies only under such names
// (analysis/row_file_source.h), so that a block message cannot make it
// write elsewhere.
bool is_row_file_name(const std::string& name);

// Bytes a row file's writing holds at most beside the stored array's bytes.
constexpr uint64_t kRowFileWriteChunkBytes = uint64_t(1) << 20;

// Writes a row file at `path` from the raw float32 bytes `next_bytes` puts
// in its argument, called until it returns false, through a temporary file
// and a rename (a file that exists is complete; a failed write leaves
// none). Throws StoreError, or what `next_bytes` throws.
void write_row_file(const std::string& path, const std::function<bool(std::string*)>& next_bytes);

class RowFile {
 public:
  // The file of `meta`'s array (a probe-activation snapshot), written from
  // the store first when missing. While it is written the array's stored
  // bytes are held (one RocksDB value) and converted kRowFileWriteChunkBytes
  // at a time. Throws StoreError (no data, or the file cannot be written).
  static RowFile open(Store& store, const SnapshotMeta& meta);
  // A row file already written, by path (a trainer rank reading the
  // daemon's files on the same machine: crosscoder/trainer_ranks.h).
  // Throws StoreError when it cannot be opened or is not n_tokens ×
  // d_model floats.
  static RowFile open_written(const std::string& path, int64_t n_tokens, int64_t d_model);
  RowFile(RowFile&& other) noexcept;
  RowFile& operator=(RowFile&&) = delete;
  RowFile(const RowFile&) = delete;
  ~RowFile();

  int64_t n_tokens() const { return n_tokens_; }
  int64_t d_model() const { return d_model_; }
  const std::string& path() const { return path_; }
  // Rows rows[0..count) into out [count × d_model]; throws StoreError.
  void read_rows(const int64_t* rows, int64_t count, float* out) const;
  void read_range(int64_t begin, int64_t end, float* out) const;

 private:
  RowFile(int fd, std::string path, int64_t n_tokens, int64_t d_model)
      : fd_(fd), path_(std::move(path)), n_tokens_(n_tokens), d_model_(d_model) {}
  void read_at(uint64_t offset, uint64_t bytes, void* out) const;

  int fd_;
  std::string path_;
  int64_t n_tokens_, d_model_;
};

}  // namespace cw

#endif  // CW_STORE_ROW_FILES_H_
