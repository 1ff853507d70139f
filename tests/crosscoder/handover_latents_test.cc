// One feature held by two latents in turn is found (crosscoder/
// handover_latents.h) and joined (Crosscoder::Impl::join_handovers, in an
// update's passes and, with no probe pass, while refining): the
// later latent takes the earlier one's heads, the earlier one is freed. A
// pair below the default |cos| (0.9) and a later latent that was present
// before the handover are left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/handover_latents.h"

namespace cw {
namespace {

constexpr int64_t kT = 4, kF = 6, kD = 3;

// w[t][i] = norm · unit(direction).
void set_row(std::vector<float>* w, int64_t t, int64_t i, std::vector<float> direction, float norm) {
  float n = 0;
  for (float v : direction) n += v * v;
  n = std::sqrt(n);
  for (int64_t k = 0; k < kD; ++k) (*w)[(t * kF + i) * kD + k] = n > 0 ? norm * direction[k] / n : 0;
}

// 0 holds e0 at heads 0-1 and goes off (0.3 of its largest) at 2-3; 1 comes
// on at 2 with e0 + 0.2 e1 (cos 0.98): a handover. 2 holds e1 at 0-1 and
// goes off; 3 comes on at 2 with e1 + e2 (cos 0.71): another feature. 4 holds
// e2 at 0-1, 5 is at 0.4 of its largest at head 1 (present) and on from 2
// with e2: not a latent that came on at 2.
std::vector<float> decoder() {
  std::vector<float> w(kT * kF * kD, 0.0f);
  for (int64_t t = 0; t < kT; ++t) {
    set_row(&w, t, 0, {1, 0, 0}, t < 2 ? 1.0f : 0.3f);
    if (t >= 2) set_row(&w, t, 1, {1, 0.2f, 0}, 1.5f);
    set_row(&w, t, 2, {0, 1, 0}, t < 2 ? 1.0f : 0.1f);
    if (t >= 2) set_row(&w, t, 3, {0, 1, 1}, 1.0f);
    set_row(&w, t, 4, {0, 0, 1}, t < 2 ? 1.0f : 0.2f);
    set_row(&w, t, 5, {0, 0, 1}, t == 0 ? 0.0f : t == 1 ? 0.4f : 1.0f);
  }
  return w;
}

CrosscoderOptions small_options() {
  CrosscoderOptions o;
  o.d_model = kD;
  o.n_features = kF;
  return o;
}

torch::Tensor decoder_tensor() {
  auto w = decoder();
  return torch::from_blob(w.data(), {kT, kF, kD}).clone();
}

// A crosscoder of kT heads over 8 tokens whose decoder is `w_dec`; the
// encoder and gate random, biases zero, fresh Adam state.
void hold_decoder(Crosscoder::Impl* m, torch::Tensor w_dec) {
  m->steps = {0, 1, 2, 3};
  m->n_tokens = 8;
  m->params = {torch::randn({kF, kT * kD}), std::move(w_dec), torch::randn({kT, kF}), torch::zeros({kT, kD}),
               torch::zeros({kF})};
  m->adam = AdamState::zeros_for(m->params);
}

TEST(HandoverLatents, FindsTheLatentThatTookTheFeatureOver) {
  const auto w = decoder();
  const auto found = handover_latents(w.data(), kT, kF, kD, CrosscoderOptions().join_handover_cosine);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].from, 0);
  EXPECT_EQ(found[0].to, 1);
  EXPECT_EQ(found[0].at, 2);
  EXPECT_NEAR(found[0].cosine, 1 / std::sqrt(1.04), 1e-6);
  // Below 0.71 the second pair is one too.
  const auto loose = handover_latents(w.data(), kT, kF, kD, 0.7);
  ASSERT_EQ(loose.size(), 2u);
  EXPECT_EQ(loose[1].from, 2);
  EXPECT_EQ(loose[1].to, 3);
}

// A's row at the head before the handover blurred (a quiet snapshot) while
// its strongest row holds the feature: the pair is still found, at the
// strongest row's cosine (quiet-then-mass/d48/k80/t9/s61: an atom's own
// latent, blurred under 0.9 at the quiet head before the mass emergence).
TEST(HandoverLatents, ComparesWithTheEarlierLatentsRowsWhereverItIsOn) {
  auto w = decoder();
  set_row(&w, 1, 0, {1, 1, 0}, 0.8f);  // cos 0.83 with latent 1's row at 2; on (0.8 of its largest)
  const auto found = handover_latents(w.data(), kT, kF, kD, CrosscoderOptions().join_handover_cosine);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].from, 0);
  EXPECT_EQ(found[0].to, 1);
  EXPECT_NEAR(found[0].cosine, 1 / std::sqrt(1.04), 1e-6);
  // Blurred at every head where it is on: no pair at 0.9.
  set_row(&w, 0, 0, {1, 1, 0}, 1.0f);
  EXPECT_TRUE(handover_latents(w.data(), kT, kF, kD, CrosscoderOptions().join_handover_cosine).empty());
}

TEST(HandoverLatents, JoinGivesTheLaterLatentTheOlderHeadsAndFreesTheEarlier) {
  CrosscoderOptions o = small_options();
  Crosscoder::Impl m(o);
  hold_decoder(&m, decoder_tensor());
  Crosscoder::Impl::ProbePass pass{torch::full({kF}, 8.0, torch::kFloat64), torch::zeros({8, kD}), CoactivationGram(kF),
                                   torch::zeros({8})};
  const auto before = m.params.w_dec.clone();
  ASSERT_EQ(m.join_handovers(&pass), 1);
  // 1 decodes at heads 0-1 what 0 did, at its own norm at head 2 (1.5).
  for (int64_t t = 0; t < 2; ++t)
    EXPECT_TRUE(torch::allclose(m.params.w_dec[t][1], before[t][0] * 1.5)) << t;
  for (int64_t t = 2; t < kT; ++t) EXPECT_TRUE(torch::equal(m.params.w_dec[t][1], before[t][1])) << t;
  EXPECT_EQ(m.params.w_dec.select(1, 0).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(m.params.w_enc.view({kF, kT, kD})[0].abs().max().item<float>(), 0.0f);
  EXPECT_EQ(pass.fired[0].item<double>(), 0.0);  // free for recruitment
  EXPECT_TRUE(torch::equal(m.params.w_dec.select(1, 3), before.select(1, 3)));
  EXPECT_EQ(m.join_handovers(&pass), 0);  // nothing left to join

  o.join_handover_cosine = 0;  // off
  Crosscoder::Impl off(o);
  hold_decoder(&off, before.clone());
  EXPECT_EQ(off.join_handovers(&pass), 0);
}

// The idle refinement joins with no probe pass (Crosscoder::join_handovers):
// the same join, nothing marked.
TEST(HandoverLatents, JoinsWithoutAProbePassAsTheRefinementDoes) {
  CrosscoderOptions o = small_options();
  Crosscoder::Impl m(o);
  hold_decoder(&m, decoder_tensor());
  const auto before = m.params.w_dec.clone();
  ASSERT_EQ(m.join_handovers(nullptr), 1);
  for (int64_t t = 0; t < 2; ++t) EXPECT_TRUE(torch::allclose(m.params.w_dec[t][1], before[t][0] * 1.5)) << t;
  EXPECT_EQ(m.params.w_dec.select(1, 0).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(m.join_handovers(nullptr), 0);
}

}  // namespace
}  // namespace cw
