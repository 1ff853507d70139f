#include "analysis/stored_rows.h"

#include <stdexcept>
#include <string>

namespace cw {

void StoredRows::append(const SnapshotMeta& meta) {
  if (n_snapshots() > 0 && (int64_t(meta.n_tokens) != n_tokens() || int64_t(meta.d_model) != d_model()))
    throw std::invalid_argument("snapshot " + meta.key.describe() + " is " + std::to_string(meta.n_tokens) + " x " +
                                std::to_string(meta.d_model) + ", the tap's others " + std::to_string(n_tokens()) +
                                " x " + std::to_string(d_model()));
  add(RowFile::open(store_, meta));
}

}  // namespace cw
