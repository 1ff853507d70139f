// `conceptwatch refit` runs conceptwatch-refit, found beside the CLI, with
// the CLI's data directory and --json and every option after `refit`; a CLI
// without it beside says where it looked and how to get it.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/cli/offline_cli.h"

namespace cw {
namespace {

class RefitTest : public ::testing::Test {
 protected:
  // A run "r", tap "resid": two snapshots of 256 tokens × 8 (daemon down).
  void SetUp() override {
    ASSERT_EQ(cli_.python("rng = np.random.default_rng(1)\nfor name in ('a', 'b'):\n    np.save('" + dir_.path() +
                          "/' + name + '.npy', rng.standard_normal((256, 8)).astype(np.float32))\nnp.save('" +
                          dir_.sub("probe.npy") + "', np.arange(256).reshape(4, 64))\n"),
              0);
    ASSERT_EQ(cli_.run("import --run r --tap resid --step 10 --probe-tokens " + dir_.sub("probe.npy") + " " +
                       dir_.sub("a.npy")),
              0)
        << cli_.output();
    ASSERT_EQ(cli_.run("import --run r --tap resid --step 20 " + dir_.sub("b.npy")), 0) << cli_.output();
  }

  testing::TempDir dir_;
  testing::OfflineCli cli_{dir_};
};

TEST_F(RefitTest, RunsTheRefitProgramWithTheCliDataDirAndJson) {
  ASSERT_EQ(cli_.run("--json refit --run r --steps 40 --out " + dir_.sub("offline")), 0) << cli_.output();
  const auto answer = nlohmann::json::parse(cli_.out());
  EXPECT_EQ(answer["run"], "r");
  EXPECT_EQ(answer["tap"], "resid");
  ASSERT_EQ(answer["snapshots"].size(), 2u);
  EXPECT_EQ(answer["snapshots"][1]["step"], 20);
  const double ev = answer["snapshots"][1]["offline_explained_variance"];
  EXPECT_GT(ev, 0.0);  // 40 steps of 64 features on 8 dimensions explain some
  EXPECT_FALSE(answer["snapshots"][1].contains("online_explained_variance"));  // no online crosscoder yet
  EXPECT_NE(cli_.err().find("refit: 2 snapshots, 64 features, 40 steps"), std::string::npos) << cli_.output();
  EXPECT_TRUE(std::filesystem::exists(dir_.sub("offline") + "/crosscoder.safetensors"));
  // Its options are the refit program's: --help after `refit` lists them.
  ASSERT_EQ(cli_.run("refit --help"), 0) << cli_.output();
  EXPECT_NE(cli_.out().find("--steps"), std::string::npos) << cli_.output();
}

TEST_F(RefitTest, TrainsWithTheConfigurationGivenToTheCli) {
  // No online crosscoder: the refit is sized by --config's [crosscoder].
  const std::string config = dir_.sub("cw.toml");
  ASSERT_EQ(cli_.python("open('" + config + "', 'w').write('[crosscoder]\\nn_features = 24\\n')\n"), 0);
  ASSERT_EQ(cli_.run("--config " + config + " --json refit --run r --steps 20"), 0) << cli_.output();
  EXPECT_NE(cli_.err().find("refit: 2 snapshots, 24 features, 20 steps"), std::string::npos) << cli_.output();
  EXPECT_FALSE(nlohmann::json::parse(cli_.out()).contains("emergence_agreement"));  // nothing online to compare
}

// The CLI passes its own --data-dir (here the test's) first; options written
// after `refit` come last and win: the user's --data-dir, --config and --json.
TEST_F(RefitTest, OptionsWrittenAfterRefitWin) {
  const std::string config = dir_.sub("cw.toml");
  ASSERT_EQ(cli_.python("open('" + config + "', 'w').write('[crosscoder]\\nn_features = 24\\n')\n"), 0);
  ASSERT_EQ(cli_.run("--json refit --data-dir " + dir_.sub("nowhere") + " --run r --steps 20"), 1);
  EXPECT_NE(cli_.output().find("nowhere"), std::string::npos) << cli_.output();
  ASSERT_EQ(
      cli_.run("--json refit --json --data-dir " + cli_.data_dir() + " --config " + config + " --run r --steps 20"), 0)
      << cli_.output();
  EXPECT_NE(cli_.err().find("refit: 2 snapshots, 24 features, 20 steps"), std::string::npos) << cli_.output();
  EXPECT_EQ(nlohmann::json::parse(cli_.out())["run"], "r");
}

TEST_F(RefitTest, ACliWithoutTheRefitProgramBesideItSaysSo) {
  const std::string lone = dir_.sub("lone-conceptwatch");
  std::filesystem::copy_file(CW_CLI_PATH, lone);
  std::filesystem::permissions(lone, std::filesystem::perms::owner_all);
  EXPECT_EQ(cli_.run("refit --run r", lone), 1);
  EXPECT_NE(cli_.output().find(dir_.path() + "/conceptwatch-refit, which is not there"), std::string::npos) << cli_.output();
  EXPECT_NE(cli_.output().find("CW_WITH_TORCH=ON"), std::string::npos) << cli_.output();
}

}  // namespace
}  // namespace cw
