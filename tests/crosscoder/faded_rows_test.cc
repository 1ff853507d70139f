// Decoder rows at the heads where the readout calls a latent faded are
// silenced (crosscoder/faded_rows.h): the rows the detector's levels select,
// and nothing else; zeroed with their Adam moments; a zeroed row then gets
// no gradient, so the latent stays silent there.
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <utility>
#include <vector>

#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/faded_rows.h"
#include "crosscoder/training_step.h"
#include "tests/crosscoder/norm_profiles.h"

namespace cw {
namespace {

std::vector<std::pair<int64_t, int64_t>> pairs(const std::vector<FadedRow>& rows) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& r : rows) out.push_back({r.head, r.latent});
  return out;
}

TEST(FadedRows, TheRowsTheReadoutCallsFadedAndNothingElse) {
  const auto norms = head_major({
      {1.0f, 0.8f, 0.2f, 0.05f, 0.0f},   // on, then below 0.3 at 2 and 3 (4 is zero already)
      {0.2f, 0.25f, 1.0f, 0.9f, 0.8f},   // below 0.3 only before it was ever on: not yet emerged
      {1.0f, 0.35f, 0.31f, 0.9f, 1.0f},  // dips to 0.31: present by the hysteresis
      {0.4f, 0.1f, 1.0f, 0.29f, 0.6f},   // 0.1 at 1 before it was on; 0.29 at 3 after: faded there
      {0.0f, 0.0f, 0.0f, 0.0f, 0.0f},    // dead
  });
  const std::vector<std::pair<int64_t, int64_t>> expected = {{2, 0}, {3, 0}, {3, 3}};
  EXPECT_EQ(pairs(faded_rows(norms.data(), 5, 5)), expected);
}

// T 3, d 3, F 3: latent 0 on at head 0 and faded at 1 and 2 (0.05 and
// 0.02 of its norm); latent 1 present throughout; latent 2 rising.
Crosscoder::Impl fading_model(bool silence) {
  const int64_t T = 3, d = 3, F = 3;
  CrosscoderOptions o;
  o.d_model = d;
  o.n_features = F;
  o.silence_faded_rows = silence;
  Crosscoder::Impl m(o);
  m.steps = {0, 1, 2};
  m.n_tokens = 8;
  torch::manual_seed(5);
  m.params = {torch::randn({F, T * d}) * 3, torch::zeros({T, F, d}), torch::zeros({T, F}), torch::zeros({T, d}),
              torch::log(torch::full({F}, 0.05))};
  const float faded[] = {1.0f, 0.05f, 0.02f}, rising[] = {0.1f, 0.6f, 1.0f};
  for (int64_t t = 0; t < T; ++t) {
    m.params.w_dec[t][0][0] = faded[t];
    m.params.w_dec[t][1][1] = 1.0;
    m.params.w_dec[t][2][2] = rising[t];
  }
  m.adam = AdamState::zeros_for(m.params);
  m.adam.m.w_dec.fill_(0.5);
  m.adam.v.w_dec.fill_(0.25);
  return m;
}

TEST(SilenceFadedRows, ZeroesTheFadedRowsWithTheirMomentsAndTheyStaySilent) {
  auto m = fading_model(true);
  const auto x = torch::randn({16, 3, 3});
  torch::Tensor f_before;
  m.forward(x, &f_before, nullptr);
  ASSERT_GT(f_before.select(2, 0).select(1, 2).count_nonzero().item<int64_t>(), 0)
      << "the fixture's faded latent must fire at its last head, or there is nothing to silence";

  ASSERT_EQ(m.silence_faded_rows(), 2);
  const auto norms = m.params.w_dec.norm(2, {2});
  EXPECT_FLOAT_EQ(norms[0][0].item<float>(), 1.0f);  // where it was on, it stays
  EXPECT_EQ(norms[1][0].item<float>(), 0.0f);
  EXPECT_EQ(norms[2][0].item<float>(), 0.0f);
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_FLOAT_EQ(norms[t][1].item<float>(), 1.0f) << t;
    EXPECT_GT(norms[t][2].item<float>(), 0.0f) << t;
  }
  for (const auto* moment : {&m.adam.m, &m.adam.v}) {
    EXPECT_EQ(moment->w_dec.index({torch::indexing::Slice(1), 0}).abs().max().item<float>(), 0.0f);
    EXPECT_GT(moment->w_dec[0][0].abs().max().item<float>(), 0.0f);
    EXPECT_GT(moment->w_dec[2][2].abs().max().item<float>(), 0.0f);
  }
  torch::Tensor f_after;
  m.forward(x, &f_after, nullptr);
  EXPECT_EQ(f_after.select(2, 0).slice(1, 1).count_nonzero().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(f_after.select(1, 0), f_before.select(1, 0)));  // head 0 decodes as before

  // A silenced row gets no gradient, from the reconstruction, the sparsity
  // or the gate, on either path: Adam leaves it at zero.
  LossConstants c;
  c.lambda = 0.3;
  for (const bool sparse : {false, true}) {
    const auto step = sparse ? sparse_step(m.params, x, c) : dense_step(m.params, x, c);
    EXPECT_EQ(step.grad.w_dec.index({torch::indexing::Slice(1), 0}).abs().max().item<float>(), 0.0f) << sparse;
  }
  EXPECT_EQ(m.silence_faded_rows(), 0);  // nothing left
}

TEST(SilenceFadedRows, OffLeavesTheRows) {
  auto m = fading_model(false);
  const auto before = m.params.w_dec.clone();
  EXPECT_EQ(m.silence_faded_rows(), 0);
  EXPECT_TRUE(torch::equal(m.params.w_dec, before));
}

}  // namespace
}  // namespace cw
