#include "analysis/stored_rows.h"

#include <string>

namespace cw {

void StoredRows::append(const SnapshotMeta& meta) {
  // Checked before the row file is written, not only when it is added.
  check_shape("snapshot " + meta.key.describe(), int64_t(meta.n_tokens), int64_t(meta.d_model));
  add(RowFile::open(store_, meta));
}

}  // namespace cw
