#include "analysis/row_file_source.h"

#include <stdexcept>

namespace cw {

void RowFileSource::add(RowFile file) {
  if (!files_.empty() && (file.n_tokens() != n_tokens() || file.d_model() != d_model()))
    throw std::invalid_argument(file.path() + " is " + std::to_string(file.n_tokens()) + " x " +
                                std::to_string(file.d_model()) + ", the snapshots before it " +
                                std::to_string(n_tokens()) + " x " + std::to_string(d_model()));
  files_.push_back(std::move(file));
}

const RowFile& RowFileSource::file(int64_t snapshot) const {
  if (snapshot < 0 || snapshot >= n_snapshots())
    throw std::out_of_range("row files: no snapshot " + std::to_string(snapshot));
  return files_[size_t(snapshot)];
}

void RowFileSource::read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const {
  file(snapshot).read_rows(rows, count, out);
}

void RowFileSource::read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const {
  file(snapshot).read_range(begin, end, out);
}

std::shared_ptr<const RowSource> open_row_files(const std::vector<std::string>& paths, int64_t n_tokens,
                                                int64_t d_model) {
  auto source = std::make_shared<RowFileSource>();
  for (const auto& path : paths) source->add(RowFile::open_written(path, n_tokens, d_model));
  return source;
}

}  // namespace cw
