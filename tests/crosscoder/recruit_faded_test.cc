// Recruitment takes dead latents first and then, with recruit_faded, latents
// silent at the newest head, the least activation energy first
// (crosscoder/crosscoder_options.h): a dictionary whose latents are all in
// use at older snapshots still learns what the newest one brings.
#include <gtest/gtest.h>

#include <vector>
#include <torch/utils.h>

#include "crosscoder/crosscoder_impl.h"

namespace cw {
namespace {

// T 2, d 4, F 5, no dead latent. Latents 0-2 decode e0, e1, e2 at both heads
// (their bias keeps them firing everywhere); latents 3 and 4 read e0 at head
// 0 and decode it there only (faded: zero at head 1), latent 3 at norm 2,
// latent 4 at 0.5 (1/16 of the energy). The newest snapshot holds e0 + e1 +
// e2 + 3 e3: its residual is e3, one new direction for one recruit.
Crosscoder::Impl all_latents_in_use(bool recruit_faded) {
  const int64_t T = 2, d = 4, F = 5, rows = 64;
  CrosscoderOptions o;
  o.d_model = d;
  o.n_features = F;
  o.recruit_fraction = 1.0;
  o.recruit_faded = recruit_faded;
  o.merge_unexplained = 0;
  Crosscoder::Impl m(o);
  m.steps = {0, 1};
  m.n_tokens = rows;
  m.scales = {1.0, 1.0};
  torch::manual_seed(5);
  auto older = torch::zeros({rows, d}), newest = torch::zeros({rows, d});
  older.select(1, 0).fill_(1.0);
  older += 0.01 * torch::randn({rows, d});
  newest.select(1, 0).fill_(1.0), newest.select(1, 1).fill_(1.0), newest.select(1, 2).fill_(1.0);
  newest.select(1, 3).fill_(3.0);
  m.memory.snapshots = {older, newest};
  auto w_enc = torch::zeros({F, T * d}), w_dec = torch::zeros({T, F, d}), b_enc = torch::zeros({T, F});
  for (int64_t i = 0; i < 3; ++i) {
    w_dec[0][i][i] = 1.0, w_dec[1][i][i] = 1.0;
    b_enc[1][i] = 1.0;
  }
  w_enc[3][0] = 1.0, w_enc[4][0] = 1.0;  // head 0's e0
  w_dec[0][3][0] = 2.0, w_dec[0][4][0] = 0.5;
  m.params = {w_enc, w_dec, b_enc, torch::zeros({T, d}), torch::log(torch::full({F}, 0.05))};
  m.adam = AdamState::zeros_for(m.params);
  return m;
}

TEST(RecruitFaded, TakesTheFadedLatentWithLeastEnergyWhenNoneIsDead) {
  Crosscoder::Impl m = all_latents_in_use(true);
  auto pass = m.probe_pass();
  EXPECT_EQ((pass.fired == 0).sum().item<int64_t>(), 0) << "no latent is dead";
  EXPECT_EQ(pass.fired_newest[3].item<double>(), 0.0);
  EXPECT_EQ(pass.fired_newest[4].item<double>(), 0.0);
  EXPECT_GT(pass.energy[3].item<double>(), 10 * pass.energy[4].item<double>());
  const auto older_heads_before = m.params.w_dec.select(0, 0).clone();
  std::vector<int64_t> recruited;
  ASSERT_EQ(m.recruit_dead_latents(&pass, &recruited), 1);
  EXPECT_EQ(recruited, std::vector<int64_t>{4});
  // Latent 4 now decodes the new direction at the newest head and was not
  // there before (its older head refitted from the residual: ≈ 0).
  const auto newest4 = m.params.w_dec[1][4];
  EXPECT_NEAR(newest4[3].item<float>(), 1.0, 1e-4) << newest4;
  EXPECT_LT(m.params.w_dec[0][4].norm().item<float>(), 0.1);
  // Latent 3, the faded one that carried more, and the live ones are untouched.
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_TRUE(torch::equal(m.params.w_dec[0][i], older_heads_before[i])) << "latent " << i;
}

TEST(RecruitFaded, OffRecruitsOnlyDeadLatents) {
  Crosscoder::Impl m = all_latents_in_use(false);
  auto pass = m.probe_pass();
  const auto before = m.params.w_dec.clone();
  EXPECT_EQ(m.recruit_dead_latents(&pass), 0);
  EXPECT_TRUE(torch::equal(m.params.w_dec, before));
}

}  // namespace
}  // namespace cw
