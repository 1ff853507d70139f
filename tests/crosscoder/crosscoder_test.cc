// Public API behaviour: online growth, exact resume, export and attribution.
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
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

// `conceptwatch refit` matches features by these rows: each feature's row
// where its decoder norm is largest, whatever happened to it at the end.
TEST(Crosscoder, StrongestDecoderDirectionsAreEachFeaturesRowAtItsLargestNorm) {
  const auto p = small_planted();
  Crosscoder cc(small_options());
  for (int64_t t = 0; t < 3; ++t) {
    cc.add_snapshot(uint64_t(t * 10), p.activations[t].data(), 512);
    cc.train();
  }
  std::vector<torch::Tensor> heads;
  for (int64_t t = 0; t < 3; ++t) heads.push_back(torch::tensor(cc.decoder_directions(t)).reshape({-1, 16}));
  const auto w = torch::stack(heads);                // [T, F, d]
  const auto strongest = w.norm(2, {2}).argmax(0);  // [F]
  const auto rows = torch::tensor(cc.strongest_decoder_directions()).reshape({-1, 16});
  ASSERT_EQ(rows.size(0), w.size(1));
  std::set<int64_t> heads_used;
  for (int64_t i = 0; i < rows.size(0); ++i) {
    const int64_t h = strongest[i].item<int64_t>();
    heads_used.insert(h);
    ASSERT_TRUE(torch::equal(rows[i], w[h][i])) << "feature " << i << " (strongest at head " << h << ")";
  }
  EXPECT_GT(heads_used.size(), 1u);  // not simply one head's rows
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

// attr_i = Σ_rows f_i · ∂m/∂f_i for the metric m = Σ `metric` (a function
// of `f`, which requires grad), by autograd.
void expect_attribution_is_autograds(const std::vector<float>& attr, const torch::Tensor& f, const torch::Tensor& metric) {
  metric.sum().backward();
  const auto expected = (f.detach() * f.grad()).sum(0);
  ASSERT_EQ(attr.size(), size_t(f.size(1)));
  double nonzero = 0;
  for (int64_t i = 0; i < f.size(1); ++i) {
    EXPECT_NEAR(attr[i], expected[i].item<float>(), 1e-4 * (1 + std::abs(expected[i].item<float>())));
    nonzero += attr[i] != 0;
  }
  EXPECT_GT(nonzero, 0);
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
  expect_attribution_is_autograds(attr, f, g * x_hat_raw);
}

// Token-wise (normalisation "token"): the option travels with the state,
// a reloaded crosscoder trains on to the bit, every row is encoded at norm
// √d (a row scaled by 5 encodes as the row), and the attribution reads each
// row's reconstruction at that row's own scale.
TEST(Crosscoder, TokenWiseRowsResumeExactlyAndAttributeAtEachRowsScale) {
  const auto p = small_planted();
  auto options = small_options();
  options.normalisation = "token";
  Crosscoder cc(options);
  cc.add_snapshot(0, p.activations[0].data(), 512);
  cc.train();
  cc.add_snapshot(1, p.activations[1].data(), 512);
  cc.train();
  EXPECT_EQ(cc.options().normalisation, "token");
  auto loaded = Crosscoder::deserialize(cc.serialize());
  EXPECT_EQ(loaded.options().normalisation, "token");
  for (int64_t t = 0; t < 2; ++t) loaded.restore_activations(t, p.activations[t].data(), 512);
  for (auto* c : {&cc, &loaded}) {
    c->add_snapshot(2, p.activations[2].data(), 512);
    c->train();
  }
  EXPECT_TRUE(cc.serialize() == loaded.serialize());

  const int64_t rows = 64, snap = 1;
  std::vector<std::vector<float>> scaled(3);
  for (int64_t t = 0; t < 3; ++t) {
    scaled[t].assign(p.activations[t].begin(), p.activations[t].begin() + rows * 16);
    for (int64_t r = 0; r < rows; r += 2)
      for (int64_t j = 0; j < 16; ++j) scaled[t][r * 16 + j] *= 5;  // every other row 5× larger
  }
  const std::vector<const float*> scaled_raw = {scaled[0].data(), scaled[1].data(), scaled[2].data()};
  const auto f_vec = cc.encode(raw(p, 3), rows, snap);
  const auto f_scaled = cc.encode(scaled_raw, rows, snap);
  ASSERT_EQ(f_scaled.size(), f_vec.size());
  for (size_t i = 0; i < f_vec.size(); ++i) EXPECT_NEAR(f_scaled[i], f_vec[i], 1e-4 * (1 + std::abs(f_vec[i])));

  const std::string dir = ::testing::TempDir() + "/cw_crosscoder_token_export";
  cc.export_safetensors(dir);
  const auto w_dec = read_safetensor(dir + "/crosscoder.safetensors", "W_D");
  const auto b_dec = read_safetensor(dir + "/crosscoder.safetensors", "b_D");
  const auto scales = read_safetensor(dir + "/crosscoder.safetensors", "scales");
  EXPECT_EQ(scales[snap].item<float>(), 1.0f);
  torch::manual_seed(1);
  const auto g = torch::randn({rows, 16});
  const auto attr = cc.attribution(scaled_raw, g.data_ptr<float>(), rows, snap);
  auto f = torch::from_blob(const_cast<float*>(f_scaled.data()), {rows, 32}).clone().set_requires_grad(true);
  // m = Σ g · x̂_raw with x̂_raw = (f W_D + b_D) · ‖x_raw‖ / √d, row by row.
  const auto x_raw = torch::from_blob(scaled[snap].data(), {rows, 16});
  const auto row_norm = x_raw.norm(2, {1}, true) / std::sqrt(16.0);
  const auto x_hat_raw = (torch::mm(f, w_dec[snap]) + b_dec[snap]) * row_norm;
  expect_attribution_is_autograds(attr, f, g * x_hat_raw);
  options.normalisation = "per-batch";
  EXPECT_THROW(Crosscoder{options}, std::invalid_argument);
}

// The residual collapse of the demo (docs/CROSSCODER.md "Why nearly every
// feature fades after step 560"), planted: the atoms live on the odd rows
// and stay exactly as they are; the even rows hold one direction u, at
// amplitude 1 until snapshot 3 and 12 from there. Per snapshot the mean row
// norm grows ~4×, so with one scale per snapshot every atom's decoder norm
// shrinks and reads as a fade; token-wise the odd rows are what they were
// and the atoms' latents keep their norm.
TEST(Crosscoder, ALargeDirectionOnOtherRowsFadesTheAtomsPerSnapshotButNotTokenWise) {
  PlantedOptions o;
  o.d_model = 16;
  o.n_atoms = 12;
  o.n_snapshots = 6;
  o.n_tokens = 1024;
  o.stationary = true;
  o.drift = 0;
  o.seed = 11;
  auto p = make_planted_dictionary(o);
  std::vector<float> u(16, 0.f);
  u[0] = 0.6f, u[1] = -0.8f;
  for (int64_t t = 0; t < 6; ++t)
    for (int64_t r = 0; r < 1024; r += 2)
      for (int64_t j = 0; j < 16; ++j) p.activations[t][r * 16 + j] = (t < 3 ? 1.f : 12.f) * u[j];
  auto median_kept_norm = [&](const std::string& normalisation) {
    auto options = small_options();
    options.n_features = 32;
    options.steps_per_update = 300;
    options.normalisation = normalisation;
    Crosscoder cc(options);
    for (int64_t t = 0; t < 6; ++t) {
      cc.add_snapshot(uint64_t(t + 1), p.activations[t].data(), 1024);
      cc.train();
    }
    std::vector<torch::Tensor> w;  // per head [F, d]
    for (int64_t t = 0; t < 6; ++t) w.push_back(torch::tensor(cc.decoder_directions(t)).reshape({32, 16}));
    const auto norms = torch::stack(w).norm(2, {2});  // [T, F]
    std::vector<double> kept;
    for (int64_t k = 0; k < 12; ++k) {
      const auto atom = torch::tensor(std::vector<float>(p.atoms[2].begin() + k * 16, p.atoms[2].begin() + (k + 1) * 16));
      const auto cos = (torch::mv(w[2], atom) / (norms[2] * atom.norm()).clamp_min(1e-12)).abs();
      const int64_t i = cos.argmax().item<int64_t>();
      kept.push_back((norms[5][i] / norms.select(1, i).max()).item<double>());
    }
    std::sort(kept.begin(), kept.end());
    return kept[kept.size() / 2];
  };
  const double per_snapshot = median_kept_norm("snapshot"), token_wise = median_kept_norm("token");
  std::printf("atoms' latents at the last snapshot, norm over their largest (median): per snapshot %.3f, token-wise %.3f\n",
              per_snapshot, token_wise);
  EXPECT_LT(per_snapshot, 0.5);  // under the emergence threshold: a fade
  EXPECT_GT(token_wise, 0.8);
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
