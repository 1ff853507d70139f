// With the daemon down the CLI answers from the data directory; with
// --config it dates emergence with the configuration's [emergence]
// settings, as the daemon does, instead of the defaults.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

class CliConfigTest : public ::testing::Test {
 protected:
  // Run "r", tap "resid", and feature 0 whose normalised decoder norm goes
  // 0.1, 0.6, 1.0 over steps 10, 20, 30: above the default threshold (0.5)
  // at step 20, above 0.8 only at step 30.
  void SetUp() override {
    const std::string script = dir_.sub("make.py");
    std::ofstream(script) << "import numpy as np\nnp.save('" << dir_.sub("a.npy")
                          << "', np.ones((8, 4), dtype=np.float32))\nnp.save('" << dir_.sub("probe.npy")
                          << "', np.arange(8).reshape(2, 4))\n";
    ASSERT_EQ(std::system((std::string(CW_PYTHON) + " " + script).c_str()), 0);
    ASSERT_EQ(cli("import --run r --tap resid --step 10 --probe-tokens " + dir_.sub("probe.npy") + " " +
                  dir_.sub("a.npy")),
              0)
        << output();
    FeatureTrajectory feature;
    for (auto [step, norm] : {std::pair<uint64_t, float>{10, 0.1f}, {20, 0.6f}, {30, 1.0f}}) {
      FeaturePoint point;
      point.step = step;
      point.decoder_norm = norm;
      point.normalised_norm = norm;
      point.frequency = 0.25f;
      feature.points.push_back(point);
    }
    auto store = Store::open(dir_.sub("data"));
    TrajectoryTable(*store).put("r", "resid", {feature});
  }

  int cli(const std::string& args) {
    const std::string command = std::string(CW_CLI_PATH) + " --endpoint tcp://127.0.0.1:1 --ingest tcp://127.0.0.1:1" +
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

  nlohmann::json emerged_step(const std::string& options) {
    EXPECT_EQ(cli(options + " --json feature 0 --run r"), 0) << output();
    return nlohmann::json::parse(file(dir_.sub("out.txt")))["emerged_step"];
  }

  testing::TempDir dir_;
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
  EXPECT_EQ(cli("--config " + dir_.sub("bad.toml") + " feature 0 --run r"), 1);
  EXPECT_NE(output().find("bad.toml"), std::string::npos) << output();
  EXPECT_EQ(cli("--config " + dir_.sub("missing.toml") + " feature 0 --run r"), 1);
  EXPECT_NE(output().find("missing.toml"), std::string::npos) << output();
}

}  // namespace
}  // namespace cw
