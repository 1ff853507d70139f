// Adam's per-slice bias correction, and the threshold a merge's keeper gets.
#include <gtest/gtest.h>

#include <cmath>
#include <torch/utils.h>

#include "crosscoder/adam_state.h"
#include "crosscoder/crosscoder_impl.h"

namespace cw {
namespace {

CrosscoderParams random_params(int64_t T, int64_t d, int64_t F, uint64_t seed) {
  torch::manual_seed(seed);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);  // a step of lr = 1e-3 resolved to 1e-5 of itself
  return {torch::randn({F, T * d}, o), torch::randn({T, F, d}, o), torch::randn({T, F}, o), torch::randn({T, d}, o),
          torch::randn({F}, o)};
}

// After many steps, a new head and a recruited latent start from zero
// moments: their first update must move each entry by lr (Adam's first step
// is lr · g / |g|), not by lr × the global step's correction (≈ 2.5 at 1,000
// steps), while the slices that kept their moments go on as before.
TEST(AdamState, FreshSlicesCountTheirOwnSteps) {
  const int64_t T = 2, d = 3, F = 4;
  auto p = random_params(T, d, F, 1);
  auto adam = AdamState::zeros_for(p);
  AdamHyper hyper;
  const double lr = 1e-3;
  for (int s = 0; s < 1000; ++s) adam.update(&p, random_params(T, d, F, 100 + s), lr, hyper);
  EXPECT_EQ(adam.latent_steps.min().item<int64_t>(), 1000);

  p.append_head(true);
  adam.append_head();
  const auto recruit = torch::tensor({2}, torch::kInt64);
  adam.reset_latents(recruit);
  EXPECT_EQ(adam.latent_steps[2][1].item<int64_t>(), 0);
  EXPECT_EQ(adam.head_steps[2].item<int64_t>(), 0);
  EXPECT_EQ(adam.threshold_steps[2].item<int64_t>(), 0);
  EXPECT_EQ(adam.latent_steps[0][1].item<int64_t>(), 1000);

  const auto before = p.clone();
  const auto g = random_params(T + 1, d, F, 7);
  adam.update(&p, g, lr, hyper);
  const auto moved = [&](const torch::Tensor& now, const torch::Tensor& was) { return (now - was).abs(); };
  // The new head (index 2): W_D, W_E block, b_E, b_D.
  const auto new_w_dec = moved(p.w_dec[2], before.w_dec[2]);
  const auto new_w_enc = moved(p.w_enc.view({F, T + 1, d}).select(1, 2), before.w_enc.view({F, T + 1, d}).select(1, 2));
  const auto new_b = torch::cat({moved(p.b_enc[2], before.b_enc[2]), moved(p.b_dec[2], before.b_dec[2])});
  // The recruited latent at an old head, and its threshold (at lr × threshold_lr_scale = lr here).
  const auto recruit_w_dec = moved(p.w_dec[0][2], before.w_dec[0][2]);
  const auto recruit_tau = moved(p.log_tau[2], before.log_tau[2]);
  for (const auto& step : {new_w_dec, new_w_enc, new_b, recruit_w_dec, recruit_tau.reshape({1})}) {
    EXPECT_NEAR(step.min().item<double>(), lr, 1e-5 * lr);
    EXPECT_NEAR(step.max().item<double>(), lr, 1e-5 * lr);
  }
  // A slice that kept its moments counts on.
  EXPECT_EQ(adam.latent_steps[0][0].item<int64_t>(), 1001);
}

// The global step's correction, the old behaviour, is what a state saved
// before the counts existed is loaded with: set_all_steps.
TEST(AdamState, SetAllStepsEqualsAStateThatCountedThemAll) {
  const int64_t T = 2, d = 3, F = 4;
  auto p = random_params(T, d, F, 1), q = p.clone();
  auto a = AdamState::zeros_for(p), b = AdamState::zeros_for(q);
  AdamHyper hyper;
  for (int s = 0; s < 5; ++s) a.update(&p, random_params(T, d, F, 10 + s), 1e-3, hyper);
  for (int s = 0; s < 5; ++s) b.update(&q, random_params(T, d, F, 10 + s), 1e-3, hyper);
  b.set_all_steps(5);
  const auto g = random_params(T, d, F, 99);
  a.update(&p, g, 1e-3, hyper);
  b.update(&q, g, 1e-3, hyper);
  auto pa = p.all(), pb = q.all();
  for (size_t k = 0; k < pa.size(); ++k) EXPECT_TRUE(torch::equal(*pa[k], *pb[k])) << k;
}

// A keeper that absorbs two latents: τ × (its final decoder norm / its
// initial one), once — not once per absorbed latent.
TEST(MergeRedundantLatents, AKeeperOfTwoScalesItsThresholdOnceByItsTotalGrowth) {
  CrosscoderOptions o;
  o.d_model = 4;
  o.n_features = 4;
  Crosscoder::Impl m(o);
  const int64_t T = 2, d = 4, F = 4;
  m.steps = {0, 1};
  m.params = {torch::randn({F, T * d}), torch::zeros({T, F, d}), torch::zeros({T, F}), torch::zeros({T, d}),
              torch::log(torch::full({F}, 0.2))};
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) m.params.w_dec[t][i][i] = 1.0;  // unit norm, orthogonal
  m.adam = AdamState::zeros_for(m.params);
  m.adam.set_all_steps(50);
  // Latents 1 and 2 fire with latent 0, at 0.5 and 0.25 × its activation;
  // latent 3 on its own.
  Crosscoder::Impl::ProbePass pass{torch::ones({F}, torch::kFloat64), torch::zeros({8, d}), CoactivationGram(F), torch::zeros({8})};
  for (int r = 0; r < 8; ++r) {
    const int64_t features[] = {0, 1, 2};
    const float a = 1.0f + r, b = 2.0f - 0.1f * r;
    const float values[] = {a, b, 0.5f * a, 0.5f * b, 0.25f * a, 0.25f * b};
    pass.gram.add_row(features, values, 3, T);
    const int64_t alone[] = {3};
    const float alone_values[] = {1.0f, 1.0f};
    pass.gram.add_row(alone, alone_values, 1, T);
  }
  const double norm_before = m.params.w_dec.select(1, 0).norm().item<double>();
  ASSERT_EQ(m.merge_redundant_latents(&pass), 2);
  const double norm_after = m.params.w_dec.select(1, 0).norm().item<double>();
  EXPECT_NEAR(norm_after / norm_before, std::sqrt(1 + 0.25 + 0.0625), 1e-6);
  EXPECT_NEAR(m.params.log_tau[0].exp().item<double>(), 0.2 * norm_after / norm_before, 1e-6);
  EXPECT_NEAR(m.params.log_tau[3].exp().item<double>(), 0.2, 1e-7);
  // The absorbed latents are empty and start their Adam counts again; the keeper's go on.
  for (int64_t i : {1, 2}) {
    EXPECT_EQ(m.params.w_dec.select(1, i).abs().max().item<double>(), 0);
    EXPECT_EQ(m.adam.latent_steps.select(1, i).max().item<int64_t>(), 0);
    EXPECT_EQ(m.adam.threshold_steps[i].item<int64_t>(), 0);
  }
  EXPECT_EQ(m.adam.latent_steps.select(1, 0).min().item<int64_t>(), 50);
}

}  // namespace
}  // namespace cw
