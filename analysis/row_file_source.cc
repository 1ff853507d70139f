#include "analysis/row_file_source.h"

#include <cctype>
#include <filesystem>
#include <stdexcept>

namespace cw {

void RowFileSource::check_shape(const std::string& what, int64_t rows, int64_t width) const {
  if (!files_.empty() && (rows != n_tokens() || width != d_model()))
    throw std::invalid_argument(what + " is " + std::to_string(rows) + " x " + std::to_string(width) +
                                ", the snapshots before it " + std::to_string(n_tokens()) + " x " +
                                std::to_string(d_model()));
}

void RowFileSource::add(RowFile file) {
  check_shape(file.path(), file.n_tokens(), file.d_model());
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

namespace {

// A row file's name as the daemon writes it (store/row_files.h): digits, a
// dot, 16 hex digits, ".f32". A copy is written only under such a name, so
// that a block message cannot make a rank write elsewhere.
bool is_row_file_name(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string::npos || name.size() != dot + 1 + 16 + 4 || name.substr(dot + 17) != ".f32")
    return false;
  for (size_t i = 0; i < dot; ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  for (size_t i = dot + 1; i < dot + 17; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

}  // namespace

RowFileAccess rank_row_files(const std::string& copies_dir) {
  RowFileAccess access;
  const auto copy_of = [copies_dir](const std::string& file) {
    const std::string name = std::filesystem::path(file).filename().string();
    if (!is_row_file_name(name))
      throw StoreError("no copy of " + file + ": not a row file's name (STEP.CHECKSUM.f32)");
    return (std::filesystem::path(copies_dir) / name).string();
  };
  access.open = [copies_dir, copy_of](const std::vector<std::string>& files, int64_t n_tokens, int64_t d_model) {
    auto source = std::make_shared<RowFileSource>();
    for (const auto& file : files) {
      try {
        source->add(RowFile::open_written(file, n_tokens, d_model));
      } catch (const StoreError& at_the_daemon) {
        if (copies_dir.empty()) throw;
        try {
          source->add(RowFile::open_written(copy_of(file), n_tokens, d_model));
        } catch (const StoreError& copy) {
          throw StoreError(std::string(at_the_daemon.what()) + "; " + copy.what());
        }
      }
    }
    return std::shared_ptr<const RowSource>(source);
  };
  if (!copies_dir.empty())
    access.keep = [copies_dir, copy_of](const std::string& file,
                                        const std::function<bool(std::string*)>& next_bytes) {
      std::error_code ec;
      std::filesystem::create_directories(copies_dir, ec);
      if (ec) throw StoreError("cannot create " + copies_dir + ": " + ec.message());
      write_row_file(copy_of(file), next_bytes);
    };
  return access;
}

}  // namespace cw
