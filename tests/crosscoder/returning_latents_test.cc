// A latent that goes on, off and on again with another direction is split
// in two at the head where it returns (crosscoder/returning_latents.h): the
// same reconstruction, one era per latent; one that returns with its own
// direction is left as it is.
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/returning_latents.h"
#include "tests/crosscoder/norm_profiles.h"

namespace cw {
namespace {

TEST(ReturningLatents, OnOffOnIsFoundWithItsPeaksAndWhatTheHysteresisAbsorbsIsNot) {
  const auto norms = head_major({
      {0.9f, 1.0f, 0.2f, 0.1f, 0.6f, 0.8f, 0.1f},  // on, off at 2, back at 4 (peak 5)
      {1.0f, 0.8f, 0.4f, 0.35f, 0.9f, 1.0f, 1.0f},  // dips to 0.35: never below 0.3, one era
      {0.0f, 0.1f, 0.9f, 1.0f, 0.2f, 0.1f, 0.0f},  // emerges and fades: no return
      {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},  // dead
      {0.1f, 0.6f, 0.1f, 0.7f, 0.1f, 1.0f, 0.2f},  // off at 0, then on, off, on: the first return (3)
  });
  const auto found = returning_latents(norms.data(), 7, 5);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].latent, 0);
  EXPECT_EQ(found[0].before_peak, 1);
  EXPECT_EQ(found[0].returns_at, 4);
  EXPECT_EQ(found[0].after_peak, 5);
  EXPECT_EQ(found[1].latent, 4);
  EXPECT_EQ(found[1].before_peak, 1);
  EXPECT_EQ(found[1].returns_at, 3);
  EXPECT_EQ(found[1].after_peak, 3);  // its era ends at 4
}

// T 5, d 4, F 4: latent 0 decodes e0 at heads 0-1, almost nothing at 2 and
// e1 at 3-4 (cos 0: split); latent 1 the same profile on e2 at both eras
// (cos 1: kept); latent 2 present throughout; latent 3 dead.
TEST(SplitReturningLatents, DecodesTheSameWithOneEraPerLatent) {
  const int64_t T = 5, d = 4, F = 4, rows = 16;
  CrosscoderOptions o;
  o.d_model = d;
  o.n_features = F;
  o.split_returning_cosine = 0.5;
  Crosscoder::Impl m(o);
  m.steps = {0, 1, 2, 3, 4};
  m.n_tokens = rows;
  torch::manual_seed(3);
  m.params = {torch::randn({F, T * d}), torch::zeros({T, F, d}), torch::randn({T, F}) * 0.1, torch::randn({T, d}) * 0.1,
              torch::log(torch::full({F}, 0.05))};
  const float scale[] = {1.0f, 0.9f, 0.1f, 0.8f, 1.0f};
  for (int64_t t = 0; t < T; ++t) {
    m.params.w_dec[t][0][t < 3 ? 0 : 1] = scale[t];
    m.params.w_dec[t][1][2] = scale[t];
    m.params.w_dec[t][2][3] = 1.0;
  }
  m.params.w_enc[3].zero_();
  m.adam = AdamState::zeros_for(m.params);
  m.adam.set_all_steps(40);
  m.adam.m.w_dec.fill_(0.5);
  Crosscoder::Impl::ProbePass pass{torch::tensor({8.0, 8.0, 8.0, 0.0}, torch::kFloat64), torch::zeros({rows, d}),
                                   CoactivationGram(F), torch::zeros({rows})};
  const auto x = torch::randn({rows, T, d});
  torch::Tensor f_before, x_hat_before, f_after, x_hat_after;
  m.forward(x, &f_before, &x_hat_before);
  const auto enc_before = m.params.w_enc.clone();

  ASSERT_EQ(m.split_returning_latents(&pass), 1);
  m.forward(x, &f_after, &x_hat_after);
  EXPECT_TRUE(torch::allclose(x_hat_after, x_hat_before, 1e-6, 1e-6));
  // Heads 0-2 stay with latent 0, heads 3-4 go to latent 3, which reads
  // the inputs as latent 0 did.
  const auto norms = m.params.w_dec.norm(2, {2});
  for (int64_t t = 0; t < T; ++t) {
    EXPECT_FLOAT_EQ(norms[t][0].item<float>(), t < 3 ? scale[t] : 0.0f) << t;
    EXPECT_FLOAT_EQ(norms[t][3].item<float>(), t < 3 ? 0.0f : scale[t]) << t;
    EXPECT_FLOAT_EQ(norms[t][1].item<float>(), scale[t]) << t;  // same direction back: not split
  }
  EXPECT_TRUE(torch::equal(m.params.w_enc[3], enc_before[0]));
  EXPECT_TRUE(torch::equal(m.params.log_tau[3], m.params.log_tau[0]));
  EXPECT_TRUE(torch::allclose(f_after.select(2, 0) + f_after.select(2, 3), f_before.select(2, 0)));
  // Adam: the counts go with the latent; no moment is left on a head a latent gave up.
  EXPECT_EQ(m.adam.latent_steps.select(1, 3).min().item<int64_t>(), 40);
  EXPECT_EQ(m.adam.m.w_dec.index({torch::indexing::Slice(3), 0}).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(m.adam.m.w_dec.index({torch::indexing::Slice(0, 3), 3}).abs().max().item<float>(), 0.0f);
  EXPECT_GT(pass.fired[3].item<double>(), 0.0);  // no longer free for recruitment

  // Nothing is left to split.
  EXPECT_EQ(m.split_returning_latents(&pass), 0);
}

TEST(SplitReturningLatents, ZeroTurnsItOffAndNoDeadLatentMeansNoSplit) {
  const int64_t T = 3, d = 2, F = 2;
  for (const bool option_off : {true, false}) {
    CrosscoderOptions o;
    o.d_model = d;
    o.n_features = F;
    o.split_returning_cosine = option_off ? 0 : 0.5;  // the default is 0
    Crosscoder::Impl m(o);
    m.steps = {0, 1, 2};
    m.n_tokens = 4;
    m.params = {torch::randn({F, T * d}), torch::zeros({T, F, d}), torch::zeros({T, F}), torch::zeros({T, d}),
                torch::zeros({F})};
    m.params.w_dec[0][0][0] = 1.0;  // e0, gone, e1
    m.params.w_dec[2][0][1] = 1.0;
    m.params.w_dec[1][1][1] = 1.0;  // no dead latent when the option is on
    m.adam = AdamState::zeros_for(m.params);
    Crosscoder::Impl::ProbePass pass{torch::full({F}, 4.0, torch::kFloat64), torch::zeros({4, d}), CoactivationGram(F),
                                     torch::zeros({4})};
    EXPECT_EQ(m.split_returning_latents(&pass), 0);
  }
}

}  // namespace
}  // namespace cw
