// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the object goes away.
#ifndef CW_TESTS_SUPPORT_TEMP_DIR_H_
#define CW_TESTS_SUPPORT_TEMP_DIR_H_

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

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_TEMP_DIR_H_
