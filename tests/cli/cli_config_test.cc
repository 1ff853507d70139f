// With the daemon down the CLI answers from the data directory; with
// --config it dates emergence with the configuration's [emergence]
// settings, as the daemon does, instead of the defaults.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/cli/offline_cli.h"

namespace cw {
namespace {

class CliConfigTest : public ::testing::Test {
 protected:
  // Run "r", tap "resid", and feature 0 whose normalised decoder norm goes
  // 0.1, 0.6, 1.0 over steps 10, 20, 30: above the default threshold (0.5)
  // at step 20, above 0.8 only at step 30.
  void SetUp() override {
    ASSERT_TRUE(cli_.import_small_run()) << cli_.output();
    FeatureTrajectory feature;
    for (auto [step, norm] : {std::pair<uint64_t, float>{10, 0.1f}, {20, 0.6f}, {30, 1.0f}}) {
      FeaturePoint point;
      point.step = step;
      point.decoder_norm = norm;
      point.normalised_norm = norm;
      point.frequency = 0.25f;
      point.cos_previous = 1;  // one direction throughout (a turn is transient: query/feature_summary.cc)
      feature.points.push_back(point);
    }
    auto store = Store::open(cli_.data_dir());
    TrajectoryTable(*store).put("r", "resid", {feature});
  }

  nlohmann::json emerged_step(const std::string& options) {
    EXPECT_EQ(cli_.run(options + " --json feature 0 --run r"), 0) << cli_.output();
    return nlohmann::json::parse(cli_.out())["emerged_step"];
  }

  testing::TempDir dir_;
  testing::OfflineCli cli_{dir_};
};

TEST_F(CliConfigTest, OfflineAnswersUseTheConfiguredEmergenceSettings) {
  EXPECT_EQ(emerged_step(""), 20);  // the default threshold, 0.5
  std::ofstream(dir_.sub("strict.toml")) << "[emergence]\nthreshold = 0.8\n";
  EXPECT_EQ(emerged_step("--config " + dir_.sub("strict.toml")), 30);
  std::ofstream(dir_.sub("default.toml")) << "[emergence]\nthreshold = 0.5\n";
  EXPECT_EQ(emerged_step("--config " + dir_.sub("default.toml")), 20);
}

TEST_F(CliConfigTest, ABadConfigurationIsRefusedByName) {
  std::ofstream(dir_.sub("bad.toml")) << "[emergence]\nthreshold = \"high\"\n";
  EXPECT_EQ(cli_.run("--config " + dir_.sub("bad.toml") + " feature 0 --run r"), 1);
  EXPECT_NE(cli_.output().find("bad.toml"), std::string::npos) << cli_.output();
  EXPECT_EQ(cli_.run("--config " + dir_.sub("missing.toml") + " feature 0 --run r"), 1);
  EXPECT_NE(cli_.output().find("missing.toml"), std::string::npos) << cli_.output();
}

}  // namespace
}  // namespace cw
