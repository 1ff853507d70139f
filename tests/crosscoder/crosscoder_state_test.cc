// The stored state (format 3, safetensors) and the formats before it: a
// state loads and saves exactly, a format-1 or format-2 state (a torch::save
// pickle) loads as the state it was and is re-saved in format 3 by the
// daemon, and the torch-free export equals the engine's.
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/crosscoder_state_migration.h"
#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_state.h"
#include "examples/planted/planted_dictionary.h"
#include "safetensors/safetensors.h"
#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/crosscoder/small_crosscoder.h"
#include "tests/support/daemon_process.h"

namespace cw {
namespace {

// A crosscoder trained on the first `snapshots` planted snapshots.
Crosscoder trained(const PlantedDictionary& p, int64_t snapshots) {
  Crosscoder cc(small_options());
  for (int64_t t = 0; t < snapshots; ++t) {
    cc.add_snapshot(uint64_t(t), p.activations[t].data(), 512);
    cc.train();
  }
  return cc;
}

// What formats 1 and 2 wrote for the same state: "CWCROSS1" | u64 JSON
// length | JSON | torch::save of the tensors (format 1 without Adam's three
// step-count tensors). The JSON is format 3's "state" metadata.
std::string legacy_state(const std::string& current, int format) {
  const StoredCrosscoderState state = decode_crosscoder_state(current);
  nlohmann::json meta = nlohmann::json::parse(state.tensors.metadata.at("state"));
  meta["version"] = format;
  std::vector<torch::Tensor> tensors;
  for (const auto& name : crosscoder_state_tensor_names()) {
    const TensorView& view = state.tensors.at(name);
    auto t = torch::empty(view.shape, view.dtype == TensorDtype::kI64 ? torch::kInt64 : torch::kFloat32);
    std::memcpy(t.data_ptr(), view.data, view.size_bytes());
    tensors.push_back(t);
  }
  if (format == 1) tensors.resize(15);
  std::ostringstream blob;
  torch::save(tensors, blob);
  const std::string text = meta.dump();
  std::string out = "CWCROSS1";
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((uint64_t(text.size()) >> (8 * i)) & 0xff));
  return out + text + blob.str();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CrosscoderState, FormatThreeIsOneSafetensorsFile) {
  const auto p = small_planted();
  const Crosscoder cc = trained(p, 2);
  const std::string bytes = cc.serialize();
  const SafetensorsContents file = parse_safetensors(bytes);
  EXPECT_EQ(file.metadata.at("format"), "conceptwatch crosscoder state");
  EXPECT_EQ(file.metadata.at("version"), "3");
  ASSERT_EQ(file.tensors.size(), 18u);
  EXPECT_EQ(file.at("w_dec").shape, (std::vector<int64_t>{2, 32, 16}));
  EXPECT_EQ(file.at("adam_latent_steps").dtype, TensorDtype::kI64);
  const auto state = decode_crosscoder_state(bytes);
  EXPECT_EQ(state.format, 3);
  EXPECT_EQ(state.meta.steps, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(state.meta.options.n_features, 32);
  // Without a snapshot: options and schedule only, no tensors.
  const std::string empty = Crosscoder(small_options()).serialize();
  EXPECT_TRUE(parse_safetensors(empty).tensors.empty());
  EXPECT_EQ(Crosscoder::deserialize(empty).serialize(), empty);
}

// Format 2 → format 3 is exact: the loaded state saves to the very bytes
// the crosscoder saves itself, and trains on identically.
TEST(CrosscoderState, LoadsFormatTwoStatesExactly) {
  const auto p = small_planted();
  Crosscoder cc = trained(p, 2);
  const std::string current = cc.serialize();
  const std::string old_bytes = legacy_state(current, 2);
  ASSERT_EQ(old_bytes.substr(0, 8), "CWCROSS1");
  EXPECT_EQ(decode_crosscoder_state(old_bytes).format, 2);
  Crosscoder old = Crosscoder::deserialize(old_bytes);
  EXPECT_TRUE(old.serialize() == current);
  for (int64_t t = 0; t < 2; ++t) old.restore_activations(t, p.activations[t].data(), 512);
  for (auto* c : {&cc, &old}) {
    c->add_snapshot(2, p.activations[2].data(), 512);
    c->train();
  }
  EXPECT_TRUE(cc.serialize() == old.serialize());
}

// A state of format 1 (no step counts: Adam was corrected with the global
// step) loads with every count at the global step, so it trains on exactly
// as the current state of the same crosscoder (one snapshot: every slice
// has taken every step).
TEST(CrosscoderState, LoadsFormatOneStatesWithTheGlobalStepCount) {
  const auto p = small_planted();
  const std::string bytes = trained(p, 1).serialize();
  auto current = Crosscoder::deserialize(bytes), old = Crosscoder::deserialize(legacy_state(bytes, 1));
  for (auto* c : {&current, &old}) {
    c->restore_activations(0, p.activations[0].data(), 512);
    c->train();
  }
  EXPECT_TRUE(current.serialize() == old.serialize());
  EXPECT_EQ(current.encode(raw(p, 1), 512, 0), old.encode(raw(p, 1), 512, 0));
}

// A state stored before rows were held out trained on every row: it goes on
// doing so (a row it learnt from is no held-out row); a new state holds out
// one in 32 unless told otherwise.
TEST(CrosscoderState, AStateFromBeforeHeldOutRowsHoldsNoneOut) {
  nlohmann::json options = crosscoder_options_json(small_options());
  EXPECT_EQ(crosscoder_options_from_json(options).hold_out_every, 32);
  options["hold_out_every"] = 8;
  EXPECT_EQ(crosscoder_options_from_json(options).hold_out_every, 8);
  options.erase("hold_out_every");
  EXPECT_EQ(crosscoder_options_from_json(options).hold_out_every, 0);
}

TEST(CrosscoderState, RefusesWhatIsNotAState) {
  EXPECT_THROW(decode_crosscoder_state("not a crosscoder"), std::invalid_argument);
  const std::string other = encode_safetensors({}, {{"format", "something else"}});
  EXPECT_THROW(decode_crosscoder_state(other), std::invalid_argument);
  const auto p = small_planted();
  std::string bytes = trained(p, 1).serialize();
  EXPECT_THROW(decode_crosscoder_state(bytes.substr(0, bytes.size() - 4)), std::invalid_argument);
}

// What the CLI exports from a stored state (torch-free) is byte for byte
// what the engine's export_safetensors writes.
TEST(CrosscoderState, TorchFreeExportEqualsTheEngines) {
  const auto p = small_planted();
  const Crosscoder cc = trained(p, 3);
  const std::string root = ::testing::TempDir() + "/cw_state_export";
  std::filesystem::remove_all(root);
  cc.export_safetensors(root + "/engine");
  const std::string bytes = cc.serialize();
  const StoredCrosscoderState state = decode_crosscoder_state(bytes);
  export_crosscoder(state.meta, state.tensors.tensors, root + "/stored");
  for (const char* file : {"/crosscoder.safetensors", "/config.json"}) {
    const std::string engine = file_bytes(root + "/engine" + file);
    EXPECT_GT(engine.size(), 100u) << file;
    EXPECT_TRUE(engine == file_bytes(root + "/stored" + file)) << file;
  }
  EXPECT_EQ(parse_safetensors(file_bytes(root + "/stored/crosscoder.safetensors")).at("W_E").shape,
            (std::vector<int64_t>{3, 16, 32}));
}

// The migration, in the real daemon: a data directory holding format-1 and
// format-2 states holds the same states in format 3 once conceptwatchd has
// opened it.
TEST(CrosscoderState, TheDaemonResavesOldStatesInFormatThree) {
  const auto p = small_planted();
  const std::string one = trained(p, 1).serialize(), two = trained(p, 2).serialize();
  testing::DaemonProcess daemon({"--log-level", "info"});
  {
    auto store = Store::open(daemon.data_dir());
    CrosscoderStateTable(*store).put("old", "one", legacy_state(one, 1));
    CrosscoderStateTable(*store).put("old", "two", legacy_state(two, 2));
    CrosscoderStateTable(*store).put("new", "two", two);
  }
  daemon.start();
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  auto store = Store::open(daemon.data_dir());
  CrosscoderStateTable table(*store);
  // Format 1 gains Adam's step counts (each at the global step).
  EXPECT_EQ(decode_crosscoder_state(*table.get("old", "one")).format, 3);
  EXPECT_TRUE(*table.get("old", "one") == Crosscoder::deserialize(legacy_state(one, 1)).serialize());
  EXPECT_TRUE(*table.get("old", "two") == two);
  EXPECT_TRUE(*table.get("new", "two") == two);
  EXPECT_NE(daemon.log().find("re-saved 2 crosscoder state(s) in format 3"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace cw
