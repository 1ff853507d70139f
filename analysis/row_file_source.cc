#include "analysis/row_file_source.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>

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

RowFileAccess rank_row_files(const std::string& copies_dir, std::chrono::seconds keep_unused, uint64_t max_bytes) {
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
        std::string copy;
        try {
          copy = copy_of(file);
          source->add(RowFile::open_written(copy, n_tokens, d_model));
        } catch (const StoreError& missing) {
          throw StoreError(std::string(at_the_daemon.what()) + "; " + missing.what());
        }
        std::error_code ignored;  // a copy not marked used is at worst pruned early and sent again
        std::filesystem::last_write_time(copy, std::filesystem::file_time_type::clock::now(), ignored);
      }
    }
    return std::shared_ptr<const RowSource>(source);
  };
  if (copies_dir.empty()) return access;
  access.keep = [copies_dir, copy_of](const std::string& file, const std::function<bool(std::string*)>& next_bytes) {
    std::error_code ec;
    std::filesystem::create_directories(copies_dir, ec);
    if (ec) throw StoreError("cannot create " + copies_dir + ": " + ec.message());
    write_row_file(copy_of(file), next_bytes);
  };
  access.prune = [copies_dir, keep_unused, max_bytes](const std::vector<std::string>& in_use) {
    std::set<std::string> used;
    for (const auto& file : in_use) used.insert(std::filesystem::path(file).filename().string());
    const auto unused_since = std::filesystem::file_time_type::clock::now() - keep_unused;
    std::vector<std::string> removed;
    std::error_code ec;
    std::filesystem::directory_iterator entries(copies_dir, ec);
    if (ec == std::errc::no_such_file_or_directory) return removed;  // nothing copied yet
    if (ec) throw StoreError("cannot list the row-file copies in " + copies_dir + ": " + ec.message());
    const auto remove = [&](const std::filesystem::path& path) {
      if (!std::filesystem::remove(path, ec) && ec)
        throw StoreError("cannot remove the unused row-file copy " + path.string() + ": " + ec.message());
      removed.push_back(path.filename().string());
    };
    // The copies kept after the age rule that the block does not name, with
    // their sizes, least recently used first; and the bytes all copies take.
    std::vector<std::tuple<std::filesystem::file_time_type, uint64_t, std::filesystem::path>> removable;
    uint64_t total = 0;
    for (const auto& entry : entries) {
      const std::string name = entry.path().filename().string();
      if (!is_row_file_name(name) || !entry.is_regular_file(ec)) continue;
      const auto modified = entry.last_write_time(ec);
      if (ec) continue;
      if (!used.count(name) && modified < unused_since) {
        remove(entry.path());
        continue;
      }
      uint64_t size = entry.file_size(ec);
      if (ec) size = 0;
      total += size;
      if (!used.count(name)) removable.emplace_back(modified, size, entry.path());
    }
    std::sort(removable.begin(), removable.end());
    for (const auto& [modified, size, path] : removable) {
      if (max_bytes == 0 || total <= max_bytes) break;
      remove(path);
      total -= size;
    }
    return removed;
  };
  return access;
}

}  // namespace cw
