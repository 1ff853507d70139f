// Row files as a crosscoder's RowSource (crosscoder/row_source.h):
// snapshot t is the t-th file added, read with pread (store/row_files.h).
// The daemon's StoredRows (analysis/stored_rows.h) adds them from the
// store; a trainer rank opens the daemon's files by path
// (rank_row_files) to read its own heads' rows.
#ifndef CW_ANALYSIS_ROW_FILE_SOURCE_H_
#define CW_ANALYSIS_ROW_FILE_SOURCE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crosscoder/row_source.h"
#include "store/row_files.h"

namespace cw {

class RowFileSource : public RowSource {
 public:
  // The next snapshot. Throws std::invalid_argument when its shape differs
  // from the first's.
  void add(RowFile file);

  int64_t n_snapshots() const override { return int64_t(files_.size()); }
  int64_t n_tokens() const override { return files_.empty() ? 0 : files_.front().n_tokens(); }
  int64_t d_model() const override { return files_.empty() ? 0 : files_.front().d_model(); }
  void read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const override;
  void read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const override;
  std::string file_of(int64_t snapshot) const override { return file(snapshot).path(); }

 protected:
  // Throws std::invalid_argument naming `what` unless a snapshot of
  // n_tokens × d_model fits the ones before it (any fits the first).
  void check_shape(const std::string& what, int64_t n_tokens, int64_t d_model) const;

 private:
  const RowFile& file(int64_t snapshot) const;

  std::vector<RowFile> files_;
};

// A trainer rank's access to the daemon's row files: each opened at its
// path, else as this rank's copy in `copies_dir` (named as the daemon's
// file: step and checksum, so one name is one array); with `copies_dir`
// empty, no copies are kept (`keep` and `prune` are unset) and a rank that
// cannot open the daemon's files is sent its rows every step. `open` throws
// StoreError naming the first file that cannot be opened or has another
// size. A copy `open` reads is marked used (its modification time set to
// now); `prune` removes the copies unused for longer than `keep_unused`
// (those of deleted runs, of taps no longer trained), then, while the
// copies take more than `max_bytes` (0: no cap), the least recently used
// of those the block in hand does not name: a copy removed too early is
// only sent again. The block's own copies are never removed, so they can
// exceed the cap alone.
RowFileAccess rank_row_files(const std::string& copies_dir,
                             std::chrono::seconds keep_unused = std::chrono::hours(24 * 7), uint64_t max_bytes = 0);

}  // namespace cw

#endif  // CW_ANALYSIS_ROW_FILE_SOURCE_H_
