#include "tests/support/temp_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace cw::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/cw-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) throw std::runtime_error("mkdtemp " + pattern + " failed");
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

TmpdirOnTmpfs::TmpdirOnTmpfs() {
  if (const char* old = std::getenv("TMPDIR")) old_ = old;
  if (::access("/dev/shm", W_OK) == 0) ::setenv("TMPDIR", "/dev/shm", 1);
}

TmpdirOnTmpfs::~TmpdirOnTmpfs() {
  if (old_) ::setenv("TMPDIR", old_->c_str(), 1);
  else ::unsetenv("TMPDIR");
}

}  // namespace cw::testing
