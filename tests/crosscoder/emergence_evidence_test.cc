#include "crosscoder/emergence_evidence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "examples/planted/planted_dictionary.h"

namespace cw {
namespace {

TEST(ActivationStrength, KnownAnswer) {
  // d 2, direction e1, 16 tokens: the first 8 are R (the feature's tokens).
  // Along e1, R holds 2 + (±0.1) at the reference snapshot 1, 0.5 ± 0.1 at
  // snapshot 0; the others hold 0.3 ± 0.1 at both. The second coordinate
  // (orthogonal to the direction) must not matter.
  const int64_t N = 16, d = 2;
  std::vector<float> x0(N * d), x1(N * d);
  std::vector<uint8_t> on(N);
  for (int64_t n = 0; n < N; ++n) {
    const float wobble = (n % 2 == 0) ? 0.1f : -0.1f;
    const bool in = n < 8;
    on[n] = in;
    x0[n * d] = (in ? 0.5f : 0.3f) + wobble;
    x1[n * d] = (in ? 2.0f : 0.3f) + wobble;
    x0[n * d + 1] = 5.0f * float(n);
    x1[n * d + 1] = -3.0f;
  }
  const std::vector<float> direction = {1.0f, 0.0f};
  ActivationStrengthInput input;
  input.n_tokens = N, input.d_model = d, input.n_features = 1;
  input.activations = {x0.data(), x1.data()};
  input.directions = direction.data();
  input.on_tokens = on.data();
  input.reference = {1};
  const auto strength = activation_strength(input);
  ASSERT_EQ(strength.size(), 2u);
  // (0.5 − 0.3) / (2.0 − 0.3)
  EXPECT_NEAR(strength[0], 0.2 / 1.7, 1e-6);
  EXPECT_NEAR(strength[1], 1.0, 1e-6);

  // Reference 0 instead: its signal 0.2 with a standard error of
  // sqrt(0.01/8 + 0.01/8) = 0.05 is 4 standard errors: measurable.
  input.reference = {0};
  EXPECT_NEAR(activation_strength(input)[1], 1.7 / 0.2, 1e-4);

  // Fewer than kMinEvidenceTokens tokens in R: unmeasurable (NaN).
  std::vector<uint8_t> few(N, 0);
  for (int64_t n = 0; n < kMinEvidenceTokens - 1; ++n) few[n] = 1;
  input.on_tokens = few.data();
  input.reference = {1};
  for (float v : activation_strength(input)) EXPECT_TRUE(std::isnan(v));

  input.reference = {2};
  EXPECT_THROW(activation_strength(input), std::invalid_argument);
}

TEST(ActivationStrength, ARareFeatureIsMeasuredOnTheTokensThatProjectMost) {
  // d 2, 64 tokens, two snapshots. Along e1 tokens 0–15 hold 1 (± 0.05) at
  // both snapshots, the rest 0 (± 0.05): a direction present all along. The
  // feature fires on only 3 of them at its reference snapshot 1, too few to
  // measure; its 8 tokens projecting most are among tokens 0–15, which hold
  // the direction at snapshot 0 too. Along e2 every token holds independent
  // noise at each snapshot: its top 8 at snapshot 1 are noise's extremes,
  // ordinary at snapshot 0, so a direction nobody planted reads absent there.
  const int64_t N = 64, d = 2;
  std::vector<float> x0(N * d), x1(N * d);
  uint64_t state = 11;
  const auto noise = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return float((state >> 11) % 1000) / 1000.0f - 0.5f;
  };
  for (int64_t n = 0; n < N; ++n) {
    const float level = n < 16 ? 1.0f : 0.0f;
    x0[n * d] = level + 0.1f * noise();
    x1[n * d] = level + 0.1f * noise();
    x0[n * d + 1] = noise();
    x1[n * d + 1] = noise();
  }
  std::vector<uint8_t> on(N * 2, 0);
  for (int64_t n = 0; n < 3; ++n) on[n * 2] = on[n * 2 + 1] = 1;  // 3 tokens for both features
  const std::vector<float> directions = {1.0f, 0.0f, 0.0f, 1.0f};
  ActivationStrengthInput input;
  input.n_tokens = N, input.d_model = d, input.n_features = 2;
  input.activations = {x0.data(), x1.data()};
  input.directions = directions.data();
  input.on_tokens = on.data();
  input.reference = {1, 1};
  for (float v : activation_strength(input)) EXPECT_TRUE(std::isnan(v));  // as before: unmeasured

  input.top_projecting_where_rare = true;
  const auto strength = activation_strength(input);  // [T × F]
  EXPECT_NEAR(strength[0 * 2 + 0], 1.0, 0.1);  // e1 at snapshot 0: there all along
  EXPECT_NEAR(strength[1 * 2 + 0], 1.0, 1e-6);
  EXPECT_LT(std::abs(strength[0 * 2 + 1]), 0.3);  // e2 at snapshot 0: absent
  EXPECT_NEAR(strength[1 * 2 + 1], 1.0, 1e-6);
}

TEST(LatestEraHeads, TheNewestDirectionsEraWhereItIsStillPresent) {
  // T 4 heads, d 2. Each feature: norm 0 at head 0, 1.0 and 0.9 along e1 at
  // heads 1–2 (its strongest head is 1), and at the newest head 3 a row
  // of norm `newest` whose cosine with e1 is `cosine`.
  struct Case {
    double newest, cosine;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {0.4, 0.0, 3},   // present (0.4 >= 0.3), another direction: its own era
      {0.25, 0.0, 1},  // no longer present (< 0.3): the strongest head
      {0.4, 0.6, 1},   // present, agrees (|cos| 0.6 >= 0.5): heads 1–3 are one era
      {0.4, 0.4, 3},   // present, disagrees (|cos| 0.4 < 0.5)
      {0.4, -0.6, 1},  // a sign flip is the same direction
  };
  const int64_t T = 4, F = static_cast<int64_t>(cases.size()), d = 2;
  std::vector<float> w(T * F * d, 0.0f);
  for (int64_t f = 0; f < F; ++f) {
    w[(1 * F + f) * d] = 1.0f;
    w[(2 * F + f) * d] = 0.9f;
    const double c = cases[f].cosine, s = std::sqrt(1 - c * c);
    w[(3 * F + f) * d] = float(cases[f].newest * c);
    w[(3 * F + f) * d + 1] = float(cases[f].newest * s);
  }
  const auto heads = latest_era_heads(w.data(), T, F, d);
  for (int64_t f = 0; f < F; ++f) EXPECT_EQ(heads[f], cases[f].expected) << "case " << f;
  EXPECT_THROW(latest_era_heads(nullptr, T, F, d), std::invalid_argument);
}

TEST(ActivationStrength, NoSignalAboveTheNoiseIsUnmeasured) {
  // R is a random half of pure-noise tokens: below 3 standard errors.
  const int64_t N = 400, d = 4;
  std::vector<float> x(N * d);
  std::vector<uint8_t> on(N);
  uint64_t state = 7;
  for (auto& v : x) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = float((state >> 11) % 1000) / 1000.0f - 0.5f;
  }
  for (int64_t n = 0; n < N; ++n) on[n] = n % 2;
  const std::vector<float> direction = {0.5f, 0.5f, 0.5f, 0.5f};
  ActivationStrengthInput input;
  input.n_tokens = N, input.d_model = d, input.n_features = 1;
  input.activations = {x.data()};
  input.directions = direction.data();
  input.on_tokens = on.data();
  input.reference = {0};
  EXPECT_TRUE(std::isnan(activation_strength(input)[0]));
}

// The two sides of the emergence threshold (0.5) on planted data: an atom
// that truly switches on at s measures ~0 at s − 1, an atom present all
// along ~1 — whatever a crosscoder's decoder norm said about it, since the
// measure reads only the activations, the direction and the tokens.
TEST(ActivationStrength, PlantedSwitchOnVersusPresentAllAlong) {
  PlantedOptions o;
  o.d_model = 32, o.n_atoms = 32, o.n_snapshots = 6, o.n_tokens = 4096, o.active_per_token = 3;
  o.n_fading = 0, o.n_initial = 8, o.noise = 0.01, o.seed = 5;
  const PlantedDictionary p = make_planted_dictionary(o);
  const int64_t T = o.n_snapshots, K = o.n_atoms, d = o.d_model, N = o.n_tokens;
  // Each atom as a "feature": its final direction, its tokens.
  std::vector<uint8_t> on(N * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) on[n * K + k] = p.coefficients[n * K + k] > 0;
  ActivationStrengthInput input;
  input.n_tokens = N, input.d_model = d, input.n_features = K;
  for (int64_t t = 0; t < T; ++t) input.activations.push_back(p.activations[t].data());
  input.directions = p.atoms[T - 1].data();
  input.on_tokens = on.data();
  input.reference.assign(K, T - 1);
  const auto strength = activation_strength(input);
  int switch_on = 0, all_along = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t s = p.onset[k];
    if (s == 0) {
      ++all_along;
      for (int64_t t = 0; t < T; ++t) EXPECT_GT(strength[t * K + k], 0.8) << "atom " << k << " snapshot " << t;
    } else {
      ++switch_on;
      EXPECT_LT(std::fabs(strength[(s - 1) * K + k]), 0.15) << "atom " << k << " onset " << s;
      EXPECT_GT(strength[s * K + k], 0.8) << "atom " << k << " onset " << s;
    }
  }
  EXPECT_GE(switch_on, 10);
  EXPECT_GE(all_along, 8);
}

}  // namespace
}  // namespace cw
