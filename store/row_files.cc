#include "store/row_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include "schema/dtype.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

std::string hex(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) out += digits[c >> 4], out += digits[c & 15];
  return out;
}

std::string os_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void write_all(int fd, const char* data, uint64_t bytes, const std::string& path) {
  while (bytes > 0) {
    const ssize_t n = ::write(fd, data, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw StoreError(os_error("cannot write", path));
    data += n, bytes -= uint64_t(n);
  }
}

// The array of `meta` as float32 in `path`, converted kRowFileWriteChunkBytes
// at a time.
void write_from_store(Store& store, const SnapshotMeta& meta, const std::string& path) {
  std::string stored;
  if (!SnapshotTable(store).read(meta.key, &stored)) throw StoreError("snapshot " + meta.key.describe() + " has no data");
  const uint64_t count = uint64_t(meta.n_tokens) * meta.d_model, element = dtype_size(meta.dtype);
  if (stored.size() != count * element)
    throw StoreError("snapshot " + meta.key.describe() + " has " + std::to_string(stored.size()) + " bytes, not " +
                     std::to_string(count * element));
  const uint64_t chunk = kRowFileWriteChunkBytes / sizeof(float);
  uint64_t done = 0;
  write_row_file(path, [&](std::string* bytes) {
    if (done == count) return false;
    const uint64_t n = std::min<uint64_t>(chunk, count - done);
    bytes->resize(n * sizeof(float));
    to_f32(meta.dtype, stored.data() + done * element, n, reinterpret_cast<float*>(bytes->data()));
    done += n;
    return true;
  });
}

}  // namespace

void write_row_file(const std::string& path, const std::function<bool(std::string*)>& next_bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError(os_error("cannot create", tmp));
  try {
    std::string bytes;
    while (next_bytes(&bytes)) write_all(fd, bytes.data(), bytes.size(), tmp);
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) throw StoreError(os_error("cannot write", tmp));
  std::filesystem::rename(tmp, path);
}

std::string row_files_dir(const Store& store, const std::string& run) {
  return (std::filesystem::path(store.dir()) / "row-files" / hex(run)).string();
}

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

RowFile RowFile::open(Store& store, const SnapshotMeta& meta) {
  const auto dir = std::filesystem::path(row_files_dir(store, meta.key.run)) / hex(meta.key.tap);
  char name[64];
  std::snprintf(name, sizeof(name), "%llu.%016llx.f32", static_cast<unsigned long long>(meta.key.step),
                static_cast<unsigned long long>(meta.checksum));
  const std::string path = (dir / name).string();
  const uint64_t bytes = uint64_t(meta.n_tokens) * meta.d_model * sizeof(float);
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) != bytes || ec) {
    std::filesystem::create_directories(dir, ec);
    if (ec) throw StoreError("cannot create " + dir.string() + ": " + ec.message());
    write_from_store(store, meta, path);
  }
  return open_written(path, int64_t(meta.n_tokens), int64_t(meta.d_model));
}

RowFile RowFile::open_written(const std::string& path, int64_t n_tokens, int64_t d_model) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw StoreError(os_error("cannot open", path));
  RowFile file(fd, path, n_tokens, d_model);  // closes fd if the size is wrong
  const uint64_t bytes = uint64_t(n_tokens) * uint64_t(d_model) * sizeof(float);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw StoreError(os_error("cannot stat", path));
  if (uint64_t(st.st_size) != bytes)
    throw StoreError(path + " is " + std::to_string(st.st_size) + " bytes, not " + std::to_string(n_tokens) + " x " +
                     std::to_string(d_model) + " floats");
  return file;
}

RowFile::RowFile(RowFile&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), n_tokens_(other.n_tokens_), d_model_(other.d_model_) {
  other.fd_ = -1;
}

RowFile::~RowFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RowFile::read_at(uint64_t offset, uint64_t bytes, void* out) const {
  char* to = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t n = ::pread(fd_, to, bytes, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw StoreError(n == 0 ? path_ + " is shorter than its snapshot" : os_error("cannot read", path_));
    to += n, offset += uint64_t(n), bytes -= uint64_t(n);
  }
}

void RowFile::read_rows(const int64_t* rows, int64_t count, float* out) const {
  const uint64_t row_bytes = uint64_t(d_model_) * sizeof(float);
  for (int64_t i = 0; i < count; ++i) {
    if (rows[i] < 0 || rows[i] >= n_tokens_) throw StoreError(path_ + ": no row " + std::to_string(rows[i]));
    read_at(uint64_t(rows[i]) * row_bytes, row_bytes, out + i * d_model_);
  }
}

void RowFile::read_range(int64_t begin, int64_t end, float* out) const {
  if (begin < 0 || end > n_tokens_ || begin > end)
    throw StoreError(path_ + ": no rows [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  const uint64_t row_bytes = uint64_t(d_model_) * sizeof(float);
  read_at(uint64_t(begin) * row_bytes, uint64_t(end - begin) * row_bytes, out);
}

}  // namespace cw
