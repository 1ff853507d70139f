// `conceptwatch export` reads the stored crosscoder without LibTorch: a
// format-3 state exports to exactly what export_crosscoder writes (which is
// byte for byte the engine's own export: tests/crosscoder/
// crosscoder_state_test.cc), and a state of an older format is refused with
// how to migrate it.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "crosscoder/crosscoder_state.h"
#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/cli/offline_cli.h"

namespace cw {
namespace {

class ExportTest : public ::testing::Test {
 protected:
  // A run "r" with one tap "resid" (d_model 4), imported with the daemon down.
  void SetUp() override {
    ASSERT_TRUE(cli_.import_small_run()) << cli_.output();
  }

  void put_state(const std::string& bytes) {
    auto store = Store::open(cli_.data_dir());
    CrosscoderStateTable(*store).put("r", "resid", bytes);
  }

  testing::TempDir dir_;
  testing::OfflineCli cli_{dir_};
};

TEST_F(ExportTest, WritesWhatTheStoredStateExportsTo) {
  // T = 2 snapshots, F = 3 features, d = 4; values that tell every element apart.
  CrosscoderStateMeta meta;
  meta.options.d_model = 4;
  meta.options.n_features = 3;
  meta.steps = {10, 20};
  meta.scales = {0.5, 0.25};
  meta.n_tokens = 8;
  std::vector<std::vector<float>> values;
  std::vector<std::vector<int64_t>> counts;
  std::vector<TensorView> tensors;
  const std::vector<std::vector<int64_t>> shapes = {{3, 8}, {2, 3, 4}, {2, 3}, {2, 4}, {3}};
  for (const auto& name : crosscoder_state_tensor_names()) {
    const size_t k = tensors.size();
    std::vector<int64_t> shape = k < 15 ? shapes[k % 5] : k == 15 ? std::vector<int64_t>{2, 3}
                                                          : k == 16 ? std::vector<int64_t>{3} : std::vector<int64_t>{2};
    int64_t n = 1;
    for (int64_t dim : shape) n *= dim;
    if (k < 15) {
      values.emplace_back(n);
      for (int64_t i = 0; i < n; ++i) values.back()[i] = float(k * 100 + i);
      tensors.push_back({name, TensorDtype::kF32, shape, reinterpret_cast<const char*>(values.back().data())});
    } else {
      counts.emplace_back(n, int64_t(k));
      tensors.push_back({name, TensorDtype::kI64, shape, reinterpret_cast<const char*>(counts.back().data())});
    }
  }
  const std::string bytes = encode_crosscoder_state(meta, tensors);
  put_state(bytes);
  ASSERT_EQ(cli_.run("--json export --run r --out " + dir_.sub("cli")), 0) << cli_.output();
  EXPECT_NE(cli_.out().find("\"snapshots\": 2"), std::string::npos) << cli_.output();
  const StoredCrosscoderState state = decode_crosscoder_state(bytes);
  export_crosscoder(state.meta, state.tensors.tensors, dir_.sub("direct"));
  for (const char* name : {"/crosscoder.safetensors", "/config.json"}) {
    EXPECT_GT(testing::file_text(dir_.sub("direct") + name).size(), 100u) << name;
    EXPECT_TRUE(testing::file_text(dir_.sub("cli") + name) == testing::file_text(dir_.sub("direct") + name)) << name;
  }
  // W_E [T, d, F] is w_enc [F, T·d] turned: W_E[t][j][i] = w_enc[i][t·d + j].
  const std::string exported = testing::file_text(dir_.sub("cli") + "/crosscoder.safetensors");
  const auto w_e = parse_safetensors(exported).at("W_E");
  ASSERT_EQ(w_e.shape, (std::vector<int64_t>{2, 4, 3}));
  float value = 0;
  std::memcpy(&value, w_e.data + sizeof(float) * ((1 * 4 + 2) * 3 + 1), sizeof(float));
  EXPECT_EQ(value, float(1 * 8 + 1 * 4 + 2));  // feature 1, head 1, dimension 2
}

TEST_F(ExportTest, AnOldFormatStateSaysHowToMigrate) {
  CrosscoderOptions options;
  options.d_model = 4;
  options.n_features = 3;
  const std::string meta = nlohmann::json{{"version", 2},        {"options", crosscoder_options_json(options)},
                                          {"steps", {10}},       {"scales", {1.0}},
                                          {"n_tokens", 8},       {"cumulative_steps", 300},
                                          {"lambda_horizon", 300}, {"updates", 1},
                                          {"newest_mse", 0.5},   {"rng", "1 2 3"}}
                               .dump();
  std::string bytes = "CWCROSS1";
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((uint64_t(meta.size()) >> (8 * i)) & 0xff));
  put_state(bytes + meta + "(a pickle)");
  EXPECT_EQ(cli_.run("export --run r --out " + dir_.sub("out")), 1);
  EXPECT_NE(cli_.output().find("stored in format 2"), std::string::npos) << cli_.output();
  EXPECT_NE(cli_.output().find("start conceptwatchd once"), std::string::npos) << cli_.output();
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("out") + "/crosscoder.safetensors"));
}

TEST_F(ExportTest, NoCrosscoderYetIsSaidSo) {
  EXPECT_EQ(cli_.run("export --run r --out " + dir_.sub("out")), 1);
  EXPECT_NE(cli_.output().find("no crosscoder for r/resid yet"), std::string::npos) << cli_.output();
}

}  // namespace
}  // namespace cw
