#include "cli/npy_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace cw {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("cw_npy_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(NpyFile, ReadsWhatNumpyWrites) {
  const std::string path = temp_path("a.npy");
  const std::string command = std::string(CW_PYTHON) +
                              " -c \"import numpy as np; np.save('" + path +
                              "', np.arange(12, dtype=np.int16).reshape(3, 4) - 2)\"";
  ASSERT_EQ(std::system(command.c_str()), 0);
  NpyArray array = read_npy(path);
  EXPECT_EQ(array.descr, "<i2");
  EXPECT_EQ(array.shape, (std::vector<uint64_t>{3, 4}));
  EXPECT_THROW(array.as_token_ids(), std::runtime_error);  // -2 and -1 are not token ids
  std::filesystem::remove(path);
}

TEST(NpyFile, RefusesFilesThatAreNotNpy) {
  const std::string path = temp_path("bad.npy");
  std::ofstream(path) << "definitely not numpy";
  try {
    read_npy(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace cw
