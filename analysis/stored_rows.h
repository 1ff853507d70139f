// A tap's stored probe activations as a crosscoder's RowSource
// (crosscoder/row_source.h): snapshot t is the t-th appended, its rows read
// from its row file (store/row_files.h, written from the store on first
// use). Holds an open file per snapshot and no rows.
#ifndef CW_ANALYSIS_STORED_ROWS_H_
#define CW_ANALYSIS_STORED_ROWS_H_

#include <vector>

#include "crosscoder/row_source.h"
#include "schema/records.h"
#include "store/row_files.h"
#include "store/store.h"

namespace cw {

class StoredRows : public RowSource {
 public:
  explicit StoredRows(Store& store) : store_(store) {}

  // The next snapshot (steps in the crosscoder's order). Writes its row
  // file when missing; throws StoreError, or std::invalid_argument when its
  // shape differs from the first's.
  void append(const SnapshotMeta& meta);

  int64_t n_snapshots() const override { return int64_t(files_.size()); }
  int64_t n_tokens() const override { return files_.empty() ? 0 : files_.front().n_tokens(); }
  int64_t d_model() const override { return files_.empty() ? 0 : files_.front().d_model(); }
  void read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const override;
  void read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const override;

 private:
  const RowFile& file(int64_t snapshot) const;

  Store& store_;
  std::vector<RowFile> files_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_STORED_ROWS_H_
