// A fresh directory under the system temp dir, removed with everything in
// it when the object goes away (also when a benchmark throws).
#ifndef CW_BENCH_COMMON_TEMP_DIR_H_
#define CW_BENCH_COMMON_TEMP_DIR_H_

#include <string>

namespace cw::bench {

class TempDir {
 public:
  // `parent` empty means std::filesystem::temp_directory_path().
  explicit TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_TEMP_DIR_H_
