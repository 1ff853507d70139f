#include "analysis/stored_rows.h"

#include <stdexcept>
#include <string>

namespace cw {

void StoredRows::append(const SnapshotMeta& meta) {
  if (!files_.empty() && (int64_t(meta.n_tokens) != n_tokens() || int64_t(meta.d_model) != d_model()))
    throw std::invalid_argument("snapshot " + meta.key.describe() + " is " + std::to_string(meta.n_tokens) + " x " +
                                std::to_string(meta.d_model) + ", the tap's others " + std::to_string(n_tokens()) +
                                " x " + std::to_string(d_model()));
  files_.push_back(RowFile::open(store_, meta));
}

const RowFile& StoredRows::file(int64_t snapshot) const {
  if (snapshot < 0 || snapshot >= n_snapshots())
    throw std::out_of_range("stored rows: no snapshot " + std::to_string(snapshot));
  return files_[size_t(snapshot)];
}

void StoredRows::read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const {
  file(snapshot).read_rows(rows, count, out);
}

void StoredRows::read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const {
  file(snapshot).read_range(begin, end, out);
}

}  // namespace cw
