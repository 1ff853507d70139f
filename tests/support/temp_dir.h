// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the object goes away.
#ifndef CW_TESTS_SUPPORT_TEMP_DIR_H_
#define CW_TESTS_SUPPORT_TEMP_DIR_H_

#include <optional>
#include <string>

namespace cw::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// TMPDIR set to /dev/shm (tmpfs) while it lives, where there is one: for
// tests and benchmarks of thousands of synced writes, which took 25 s on
// this machine's disk when disk speed is not what they measure.
class TmpdirOnTmpfs {
 public:
  TmpdirOnTmpfs();
  ~TmpdirOnTmpfs();
  TmpdirOnTmpfs(const TmpdirOnTmpfs&) = delete;
  TmpdirOnTmpfs& operator=(const TmpdirOnTmpfs&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_TEMP_DIR_H_
