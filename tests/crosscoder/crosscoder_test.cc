// Public API behaviour: online growth, exact resume, export and attribution.
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_state.h"
#include "crosscoder/schedule.h"
#include "examples/planted/planted_dictionary.h"
#include "tests/crosscoder/safetensors_reader.h"
#include "tests/crosscoder/small_crosscoder.h"

namespace cw {
namespace {

// A training call shorter than 1 / warmup_fraction steps (a backlog's share,
// a refinement's share cut short) has a warm-up under one step: its first
// step was at (s + 1) / warmup × lr, 4× lr at 5 steps, 20× at one.
TEST(Schedule, LrNeverExceedsTheConfiguredOneAndStillWarmsUpALongCall) {
  CrosscoderOptions o;
  o.lr = 0.002;
  o.warmup_fraction = 0.05;
  for (const int64_t total : {1, 2, 5, 10, 19, 20, 21, 150, 2000})
    for (int64_t s = 0; s < total; ++s) EXPECT_LE(scheduled_lr(o, s, total), o.lr) << s << " of " << total;
  EXPECT_EQ(scheduled_lr(o, 0, 5), o.lr);
  EXPECT_EQ(scheduled_lr(o, 0, 1), o.lr);
  EXPECT_NEAR(scheduled_lr(o, 0, 150), o.lr / 7.5, 1e-15);  // 150 steps: warm-up over 7.5
  EXPECT_NEAR(scheduled_lr(o, 7, 150), o.lr, 1e-15);
  EXPECT_NEAR(scheduled_lr(o, 149, 150), o.lr * o.final_lr_ratio, 1e-15);  // the decay's end
}

TEST(Crosscoder, GrowthLeavesActivationsUnchanged) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train();
  cc.add_snapshot(10, p.activations[1].data(), 512);
  cc.train();
  const std::vector<std::vector<float>> before = {cc.encode(raw(p, 2), 512, 0), cc.encode(raw(p, 2), 512, 1)};
  cc.add_snapshot(20, p.activations[2].data(), 512);
  for (int64_t t = 0; t < 2; ++t) {
    const auto& b = before[t];
    const auto a = cc.encode(raw(p, 3), 512, t);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_FLOAT_EQ(a[i], b[i]) << "snapshot " << t << " entry " << i;
  }
  // The new head copies the previous decoder and gate: same activations.
  const auto newest = cc.encode(raw(p, 3), 512, 2);
  for (size_t i = 0; i < newest.size(); ++i) ASSERT_FLOAT_EQ(newest[i], before[1][i]);
  double active = 0;
  for (float v : newest) active += v > 0;
  EXPECT_GT(active, 0);
  ASSERT_EQ(cc.measure_arrivals().size(), 3u);
  EXPECT_GT(cc.newest_snapshot_mse(), 0);
}

// A daemon that fell behind adds several snapshots before one measurement:
// each must read as it would have alone, right after it was added.
TEST(Crosscoder, SnapshotsAddedTogetherMeasureAsIfAddedOneAtATime) {
  const auto p = small_planted();
  Crosscoder alone(small_options()), together(small_options());
  for (Crosscoder* cc : {&alone, &together}) {
    cc->add_snapshot(0, p.activations[0].data(), 512);
    ASSERT_EQ(cc->measure_arrivals().size(), 1u);
    cc->train();
  }
  std::vector<Crosscoder::Arrival> one_by_one;
  for (uint64_t t : {1, 2}) {
    alone.add_snapshot(10 * t, p.activations[t].data(), 512);
    const auto arrivals = alone.measure_arrivals();
    ASSERT_EQ(arrivals.size(), 1u);
    one_by_one.push_back(arrivals[0]);
    EXPECT_TRUE(alone.measure_arrivals().empty()) << "measured twice";
  }
  together.add_snapshot(10, p.activations[1].data(), 512);
  together.add_snapshot(20, p.activations[2].data(), 512);
  const auto both = together.measure_arrivals();
  ASSERT_EQ(both.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_GT(both[i].mse, 0);
    EXPECT_DOUBLE_EQ(both[i].mse, one_by_one[i].mse) << "snapshot " << i + 1;
    EXPECT_DOUBLE_EQ(both[i].energy, one_by_one[i].energy) << "snapshot " << i + 1;
  }
  EXPECT_EQ(together.newest_snapshot_mse(), both[1].mse);
}

// A backlog trained between its snapshots: the second is measured against
// heads trained on the first, not on a copy of the head before both. Here
// the backlog's second snapshot is the first one again (a model that did
// not move between them): measured against the stale head it reads as
// everything that changed since snapshot 0; measured after training on its
// twin, it is mostly explained. The training is a share of an update's
// budget, with no recruitment or merging.
TEST(Crosscoder, TrainingBetweenArrivalsMeasuresEachAgainstTheOneBefore) {
  const auto p = small_planted();
  CrosscoderOptions options = small_options();
  options.steps_per_update = 400;  // enough for a head to learn its snapshot
  Crosscoder stale(options), between(options);
  for (Crosscoder* cc : {&stale, &between}) {
    cc->add_snapshot(0, p.activations[0].data(), 512);
    cc->measure_arrivals();
    cc->train();
    cc->add_snapshot(10, p.activations[1].data(), 512);
    cc->measure_arrivals();
  }
  EXPECT_THROW(between.train_between_arrivals(0), std::invalid_argument);
  EXPECT_THROW(between.train_between_arrivals(1.5), std::invalid_argument);
  const TrainReport report = between.train_between_arrivals(0.5);
  EXPECT_EQ(report.steps, options.steps_per_update / 2);
  EXPECT_EQ(report.recruited, 0);
  EXPECT_EQ(report.merged, 0);
  for (Crosscoder* cc : {&stale, &between}) cc->add_snapshot(20, p.activations[1].data(), 512);
  const double missed_stale = stale.measure_arrivals().at(0).mse;
  const double missed_between = between.measure_arrivals().at(0).mse;
  EXPECT_LT(missed_between, 0.5 * missed_stale) << missed_between << " against " << missed_stale;
}

// The lambda schedule warms up over an update's budget whichever training
// comes first: a daemon whose first turn finds a backlog trains a share of
// an update before its first update.
TEST(Crosscoder, ABacklogsShareTrainedFirstKeepsTheUpdatesLambdaSchedule) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train_between_arrivals(0.25);
  const std::string bytes = cc.serialize();
  const StoredCrosscoderState stored = decode_crosscoder_state(bytes);
  EXPECT_EQ(stored.meta.lambda_horizon, small_options().steps_per_update);
  EXPECT_EQ(stored.meta.cumulative_steps, small_options().steps_per_update / 4);
  EXPECT_EQ(stored.meta.updates, 0);
}

TEST(Crosscoder, SerializeRoundTripAndExactResume) {
  const auto p = small_planted();
  std::vector<double> straight, resumed;
  {
    Crosscoder cc(small_options());
    cc.add_snapshot(0, p.activations[0].data(), 512);
    cc.train([&](int64_t, double l) { straight.push_back(l); });
    cc.add_snapshot(1, p.activations[1].data(), 512);
    cc.train([&](int64_t, double l) { straight.push_back(l); });
  }
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train([&](int64_t, double l) { resumed.push_back(l); });
  cc.add_snapshot(1, p.activations[1].data(), 512);
  const auto bytes = cc.serialize();
  auto loaded = Crosscoder::deserialize(bytes);
  EXPECT_EQ(loaded.n_snapshots(), 2);
  EXPECT_EQ(loaded.steps(), (std::vector<uint64_t>{0, 1}));
  for (int64_t t = 0; t < 2; ++t) loaded.restore_activations(t, p.activations[t].data(), 512);
  const auto a = cc.encode(raw(p, 2), 512, 1), b = loaded.encode(raw(p, 2), 512, 1);
  ASSERT_EQ(a, b);
  const auto ma = cc.evaluate(), mb = loaded.evaluate();
  EXPECT_DOUBLE_EQ(ma[1].explained_variance, mb[1].explained_variance);
  loaded.train([&](int64_t, double l) { resumed.push_back(l); });
  ASSERT_EQ(straight.size(), resumed.size());
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_NEAR(straight[i], resumed[i], 1e-5) << "progress call " << i;
  EXPECT_THROW(Crosscoder::deserialize("not a crosscoder"), std::invalid_argument);
}

// Save → load → train equals training on: the Adam step counts travel with
// the state (a new head's and a recruit's counts differ from the global step).
TEST(Crosscoder, SaveLoadTrainIsBitIdentical) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train();
  cc.add_snapshot(1, p.activations[1].data(), 512);
  cc.train();
  auto loaded = Crosscoder::deserialize(cc.serialize());
  for (int64_t t = 0; t < 2; ++t) loaded.restore_activations(t, p.activations[t].data(), 512);
  for (auto* c : {&cc, &loaded}) {
    c->add_snapshot(2, p.activations[2].data(), 512);
    c->train();
  }
  EXPECT_TRUE(cc.serialize() == loaded.serialize());
  for (int64_t t = 0; t < 3; ++t) EXPECT_EQ(cc.encode(raw(p, 3), 512, t), loaded.encode(raw(p, 3), 512, t)) << t;
}

TEST(Crosscoder, AttributionMatchesAutogradOfRawReconstruction) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train();
  cc.add_snapshot(1, p.activations[1].data(), 512);
  cc.train();
  const std::string dir = ::testing::TempDir() + "/cw_crosscoder_export";
  cc.export_safetensors(dir);
  const auto w_dec = read_safetensor(dir + "/crosscoder.safetensors", "W_D");
  const auto b_dec = read_safetensor(dir + "/crosscoder.safetensors", "b_D");
  const auto scales = read_safetensor(dir + "/crosscoder.safetensors", "scales");
  EXPECT_EQ(w_dec.sizes(), (std::vector<int64_t>{2, 32, 16}));
  EXPECT_EQ(read_safetensor(dir + "/crosscoder.safetensors", "W_E").sizes(), (std::vector<int64_t>{2, 16, 32}));
  EXPECT_TRUE(std::filesystem::exists(dir + "/config.json"));

  const int64_t rows = 64, snap = 1;
  torch::manual_seed(1);
  const auto g = torch::randn({rows, 16});
  const auto attr = cc.attribution(raw(p, 2), g.data_ptr<float>(), rows, snap);
  const auto f_vec = cc.encode(raw(p, 2), rows, snap);
  auto f = torch::from_blob(const_cast<float*>(f_vec.data()), {rows, 32}).clone().set_requires_grad(true);
  // m = Σ g · x̂_raw with x̂_raw = (f W_D + b_D) / scale.
  const auto x_hat_raw = (torch::mm(f, w_dec[snap]) + b_dec[snap]) / scales[snap];
  (g * x_hat_raw).sum().backward();
  const auto expected = (f.detach() * f.grad()).sum(0);
  ASSERT_EQ(attr.size(), 32u);
  double nonzero = 0;
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_NEAR(attr[i], expected[i].item<float>(), 1e-4 * (1 + std::abs(expected[i].item<float>())));
    nonzero += attr[i] != 0;
  }
  EXPECT_GT(nonzero, 0);
}

TEST(Crosscoder, RejectsBadShapes) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  cc.add_snapshot(0, p.activations[0].data(), 512);
  EXPECT_THROW(cc.add_snapshot(1, p.activations[1].data(), 256), std::invalid_argument);
  EXPECT_THROW(cc.add_snapshot(0, p.activations[1].data(), 512), std::invalid_argument);
  CrosscoderOptions bad;
  EXPECT_THROW(Crosscoder{bad}, std::invalid_argument);
}

// Debian's LibTorch (this machine's) is CPU-only: "cuda" must be refused
// with a message that names the missing piece, at construction.
TEST(Crosscoder, DeviceIsCheckedAndCudaIsRefusedWithoutIt) {
  EXPECT_NO_THROW(check_device("cpu"));
  EXPECT_THROW(check_device("tpu"), std::invalid_argument);
  EXPECT_THROW(check_device("cuda:x"), std::invalid_argument);
  if (torch::cuda::is_available()) GTEST_SKIP() << "this LibTorch sees a GPU";
  for (const char* device : {"cuda", "cuda:0"}) {
    SCOPED_TRACE(device);
    try {
      check_device(device);
      ADD_FAILURE() << "accepted without CUDA";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(torch::hasCUDA() ? "sees no GPU" : "needs a CUDA build of LibTorch"), std::string::npos)
          << what;
      EXPECT_NE(what.find("--device cpu"), std::string::npos) << what;
    }
    CrosscoderOptions o = small_options();
    o.device = device;
    EXPECT_THROW(Crosscoder{o}, std::invalid_argument);
  }
}

}  // namespace
}  // namespace cw
