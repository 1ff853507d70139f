// A tap's stored probe activations as a crosscoder's RowSource
// (crosscoder/row_source.h): snapshot t is the t-th appended, its rows read
// from its row file (store/row_files.h, written from the store on first
// use). Holds an open file per snapshot and no rows.
#ifndef CW_ANALYSIS_STORED_ROWS_H_
#define CW_ANALYSIS_STORED_ROWS_H_

#include "analysis/row_file_source.h"
#include "schema/records.h"
#include "store/store.h"

namespace cw {

class StoredRows : public RowFileSource {
 public:
  explicit StoredRows(Store& store) : store_(store) {}

  // The next snapshot (steps in the crosscoder's order). Writes its row
  // file when missing; throws StoreError, or std::invalid_argument when its
  // shape differs from the first's.
  void append(const SnapshotMeta& meta);

 private:
  Store& store_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_STORED_ROWS_H_
