// `conceptwatch import` of .npy files written by numpy, with the daemon down
// (the CLI runs the ingest path itself on the data directory).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "schema/checksum.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

namespace fs = std::filesystem;

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cw_import_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int python(const std::string& code) {
    const std::string script = (dir_ / "make.py").string();
    std::ofstream(script) << code;
    return std::system((std::string(CW_PYTHON) + " " + script).c_str());
  }

  // Runs the CLI against a daemon that is not there (unused ports).
  int cli(const std::string& args) {
    const std::string command = std::string(CW_CLI_PATH) + " --endpoint tcp://127.0.0.1:1 --ingest tcp://127.0.0.1:1" +
                                " --timeout-ms 200 --data-dir " + (dir_ / "data").string() + " " + args + " > " +
                                (dir_ / "out.txt").string() + " 2>&1";
    return WEXITSTATUS(std::system(command.c_str()));
  }

  std::string output() {
    std::ifstream in(dir_ / "out.txt");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

TEST_F(ImportTest, NumpyFilesReadBackEqual) {
  ASSERT_EQ(python("import numpy as np\n"
                   "rng = np.random.default_rng(3)\n"
                   "np.save('" + (dir_ / "probe.npy").string() + "', rng.integers(0, 50000, size=(4, 64)))\n"
                   "a = rng.standard_normal((256, 48)).astype(np.float32)\n"
                   "np.save('" + (dir_ / "a.npy").string() + "', a); open('" + (dir_ / "a.bin").string() + "', 'wb').write(a.tobytes())\n"
                   "h = (rng.standard_normal((256, 48)) * 3).astype(np.float16)\n"
                   "np.save('" + (dir_ / "h.npy").string() + "', h); open('" + (dir_ / "h.bin").string() + "', 'wb').write(h.tobytes())\n"),
            0);
  ASSERT_EQ(cli("import --run pythia-160m --tap blocks.6.resid_post --step 1000 --tokens-seen 2097152000 "
                "--scalar loss=3.25 --probe-tokens " + (dir_ / "probe.npy").string() + " " + (dir_ / "a.npy").string()),
            0)
      << output();
  ASSERT_EQ(cli("import --run pythia-160m --tap blocks.6.resid_post --step 2000 " + (dir_ / "h.npy").string()), 0)
      << output();

  auto store = Store::open((dir_ / "data").string(), {true, true});
  SnapshotTable table(*store);
  const auto metas = table.list("pythia-160m");
  ASSERT_EQ(metas.size(), 2u);
  EXPECT_EQ(metas[0].key.step, 1000u);
  EXPECT_EQ(metas[0].tokens_seen, 2097152000u);
  ASSERT_EQ(metas[0].scalars.size(), 1u);
  EXPECT_EQ(metas[0].scalars[0].first, "loss");
  EXPECT_DOUBLE_EQ(metas[0].scalars[0].second, 3.25);
  EXPECT_EQ(metas[0].dtype, DType::kF32);
  EXPECT_EQ(metas[1].dtype, DType::kF16);

  std::string stored;
  ASSERT_TRUE(table.read(metas[0].key, &stored));
  EXPECT_EQ(stored, read_file(dir_ / "a.bin"));
  EXPECT_EQ(metas[0].checksum, checksum64(stored.data(), stored.size()));
  ASSERT_TRUE(table.read(metas[1].key, &stored));
  EXPECT_EQ(stored, read_file(dir_ / "h.bin"));
}

TEST_F(ImportTest, RefusesWithAReasonTheUserCanActOn) {
  ASSERT_EQ(python("import numpy as np\n"
                   "np.save('" + (dir_ / "a.npy").string() + "', np.ones((256, 8), dtype=np.float32))\n"
                   "b = np.ones((256, 8), dtype=np.float32); b[3, 5] = np.nan\n"
                   "np.save('" + (dir_ / "nan.npy").string() + "', b)\n"
                   "np.save('" + (dir_ / "probe.npy").string() + "', np.zeros((2, 128), dtype=np.int32))\n"
                   "np.save('" + (dir_ / "short.npy").string() + "', np.ones((100, 8), dtype=np.float32))\n"),
            0);
  EXPECT_EQ(cli("import --run r --tap t --step 1 " + (dir_ / "a.npy").string()), 1);
  EXPECT_NE(output().find("--probe-tokens"), std::string::npos) << output();

  const std::string probe = " --probe-tokens " + (dir_ / "probe.npy").string() + " ";
  EXPECT_EQ(cli("import --run r --tap t --step 1" + probe + (dir_ / "nan.npy").string()), 1);
  EXPECT_NE(output().find("non-finite value (NaN or Inf) at token 3, dimension 5"), std::string::npos) << output();

  EXPECT_EQ(cli("import --run r --tap t --step 1" + probe + (dir_ / "short.npy").string()), 1);
  EXPECT_NE(output().find("100 rows but the probe set has 256 tokens"), std::string::npos) << output();
}

}  // namespace
}  // namespace cw
