// `conceptwatch refit` runs conceptwatch-refit, found beside the CLI, with
// the CLI's data directory and --json and every option after `refit`; a CLI
// without it beside says where it looked and how to get it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace cw {
namespace {

class RefitTest : public ::testing::Test {
 protected:
  // A run "r", tap "resid": two snapshots of 256 tokens × 8 (daemon down).
  void SetUp() override {
    const std::string script = dir_.sub("make.py");
    std::ofstream(script) << "import numpy as np\nrng = np.random.default_rng(1)\n"
                          << "for name in ('a', 'b'):\n"
                          << "    np.save('" << dir_.path() << "/' + name + '.npy', "
                          << "rng.standard_normal((256, 8)).astype(np.float32))\n"
                          << "np.save('" << dir_.sub("probe.npy") << "', np.arange(256).reshape(4, 64))\n";
    ASSERT_EQ(std::system((std::string(CW_PYTHON) + " " + script).c_str()), 0);
    ASSERT_EQ(cli(CW_CLI_PATH, "import --run r --tap resid --step 10 --probe-tokens " + dir_.sub("probe.npy") + " " +
                                   dir_.sub("a.npy")),
              0)
        << output();
    ASSERT_EQ(cli(CW_CLI_PATH, "import --run r --tap resid --step 20 " + dir_.sub("b.npy")), 0) << output();
  }

  int cli(const std::string& program, const std::string& args) {
    const std::string command = program + " --endpoint tcp://127.0.0.1:1 --ingest tcp://127.0.0.1:1" +
                                " --timeout-ms 200 --data-dir " + dir_.sub("data") + " " + args + " > " +
                                dir_.sub("out.txt") + " 2> " + dir_.sub("err.txt");
    return WEXITSTATUS(std::system(command.c_str()));
  }

  static std::string file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string output() const { return file(dir_.sub("out.txt")) + file(dir_.sub("err.txt")); }

  testing::TempDir dir_;
};

TEST_F(RefitTest, RunsTheRefitProgramWithTheCliDataDirAndJson) {
  ASSERT_EQ(cli(CW_CLI_PATH, "--json refit --run r --steps 40 --out " + dir_.sub("offline")), 0) << output();
  const auto answer = nlohmann::json::parse(file(dir_.sub("out.txt")));
  EXPECT_EQ(answer["run"], "r");
  EXPECT_EQ(answer["tap"], "resid");
  ASSERT_EQ(answer["snapshots"].size(), 2u);
  EXPECT_EQ(answer["snapshots"][1]["step"], 20);
  const double ev = answer["snapshots"][1]["offline_explained_variance"];
  EXPECT_GT(ev, 0.0);  // 40 steps of 64 features on 8 dimensions explain some
  EXPECT_FALSE(answer["snapshots"][1].contains("online_explained_variance"));  // no online crosscoder yet
  EXPECT_NE(file(dir_.sub("err.txt")).find("refit: 2 snapshots, 64 features, 40 steps"), std::string::npos) << output();
  EXPECT_TRUE(std::filesystem::exists(dir_.sub("offline") + "/crosscoder.safetensors"));
  // Its options are the refit program's: --help after `refit` lists them.
  ASSERT_EQ(cli(CW_CLI_PATH, "refit --help"), 0) << output();
  EXPECT_NE(file(dir_.sub("out.txt")).find("--steps"), std::string::npos) << output();
}

TEST_F(RefitTest, ACliWithoutTheRefitProgramBesideItSaysSo) {
  const std::string lone = dir_.sub("lone-conceptwatch");
  std::filesystem::copy_file(CW_CLI_PATH, lone);
  std::filesystem::permissions(lone, std::filesystem::perms::owner_all);
  EXPECT_EQ(cli(lone, "refit --run r"), 1);
  EXPECT_NE(output().find(dir_.path() + "/conceptwatch-refit, which is not there"), std::string::npos) << output();
  EXPECT_NE(output().find("CW_WITH_TORCH=ON"), std::string::npos) << output();
}

}  // namespace
}  // namespace cw
