#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <unistd.h>

#include "examples/tinygpt/induction_metrics.h"
#include "examples/tinygpt/model.h"
#include "hooks/torch_tap.h"

namespace cw {
namespace {

GPTConfig small_config(bool mlp) {
  GPTConfig c;
  c.vocab_size = 10;
  c.context = 16;
  c.n_layers = 2;
  c.d_model = 32;
  c.n_heads = 4;
  c.mlp = mlp;
  return c;
}

TEST(TinyGptModel, TapShapesAndNames) {
  torch::manual_seed(0);
  GPT model(small_config(/*mlp=*/true));
  auto tokens = torch::randint(0, 10, {3, 12}, torch::kLong);
  std::set<std::string> taps;
  for (auto& t : model->config().residual_taps()) taps.insert(t);
  for (auto& t : model->config().pattern_taps()) taps.insert(t);
  EXPECT_EQ(model->config().residual_taps(),
            (std::vector<std::string>{"embed", "blocks.0.resid_mid", "blocks.0.resid_post", "blocks.1.resid_mid",
                                      "blocks.1.resid_post", "ln_final"}));
  auto fwd = model->forward_with_taps(tokens, taps);
  EXPECT_EQ(fwd.logits.sizes(), (std::vector<int64_t>{3, 12, 10}));
  ASSERT_EQ(fwd.taps.size(), taps.size());
  for (auto& name : model->config().residual_taps()) {
    EXPECT_EQ(fwd.taps.at(name).sizes(), (std::vector<int64_t>{3, 12, 32})) << name;
  }
  auto pattern = fwd.taps.at("blocks.1.attn.pattern");
  ASSERT_EQ(pattern.sizes(), (std::vector<int64_t>{3, 4, 12, 12}));
  EXPECT_TRUE(torch::allclose(pattern.sum(-1), torch::ones({3, 4, 12})));
  EXPECT_EQ(pattern.triu(1).abs().max().item<float>(), 0.0f);  // causal
  EXPECT_TRUE(torch::equal(fwd.logits, model->forward(tokens)));
}

// The task probe's gradient: with LayerNorm scales frozen the forward is the
// same, and a metric linear in the logits is linear in the last residual,
// so x · ∂m/∂x gives it back (less the LayerNorm bias's part, zero here at
// init); through a differentiable LayerNorm it is scale-invariant, x · ∂m/∂x ≈ 0
// (measured 0.9% of m).
TEST(TinyGptModel, FrozenNormScalesKeepTheForwardAndMakeTheMetricLinearInTheResidual) {
  torch::manual_seed(0);
  GPT model(small_config(/*mlp=*/true));
  auto tokens = torch::randint(0, 10, {2, 12}, torch::kLong);
  const auto direction = torch::randn({10});
  for (NormScales norms : {NormScales::kDifferentiable, NormScales::kFrozen}) {
    auto fwd = model->forward_with_taps(tokens, {"blocks.1.resid_post", "ln_final"}, norms);
    EXPECT_TRUE(torch::allclose(fwd.logits, model->forward(tokens), 1e-5, 1e-6));
    const auto metric = (fwd.logits * direction).sum();
    const auto& x = fwd.taps.at("blocks.1.resid_post");
    const auto g = torch::autograd::grad({metric}, {x})[0];
    const double linear = (x * g).sum().item<double>(), m = metric.item<double>();
    if (norms == NormScales::kFrozen) {
      EXPECT_NEAR(linear, m, 1e-4 * std::abs(m) + 1e-5);
    } else {
      // Not exactly 0: LayerNorm's ε (1e-5) is ~1% of the variance of a
      // residual at init (weights N(0, 0.02²)).
      EXPECT_LT(std::abs(linear), 0.02 * std::abs(m));
    }
  }
}

TEST(TinyGptModel, UnknownTapsAreRefused) {
  GPT attention_only(small_config(/*mlp=*/false));
  auto tokens = torch::zeros({1, 4}, torch::kLong);
  EXPECT_THROW(attention_only->forward_with_taps(tokens, {"blocks.0.resid_mid"}), std::invalid_argument);
  EXPECT_THROW(attention_only->forward_with_taps(tokens, {"blocks.2.resid_post"}), std::invalid_argument);
  EXPECT_THROW(attention_only->forward(torch::zeros({1, 17}, torch::kLong)), std::invalid_argument);
  GPTConfig bad = small_config(false);
  bad.n_heads = 5;
  EXPECT_THROW(GPT{bad}, std::invalid_argument);
}

TEST(TinyGptModel, LaterTokensDoNotChangeEarlierLogits) {
  torch::manual_seed(1);
  GPT model(small_config(/*mlp=*/true));
  auto a = torch::randint(0, 10, {1, 12}, torch::kLong);
  auto b = a.clone();
  b[0][8] = (a[0][8].item<int64_t>() + 1) % 10;
  auto la = model->forward(a), lb = model->forward(b);
  EXPECT_TRUE(torch::allclose(la.slice(1, 0, 8), lb.slice(1, 0, 8)));
  EXPECT_FALSE(torch::allclose(la.slice(1, 8, 12), lb.slice(1, 8, 12)));
}

TEST(TinyGptModel, RotaryScoresDependOnRelativePositionOnly) {
  torch::manual_seed(0);
  const Rotary rotary(16, 8);
  const auto q = torch::randn({1, 1, 1, 8}).expand({1, 1, 16, 8});
  const auto k = torch::randn({1, 1, 1, 8}).expand({1, 1, 16, 8});
  const auto rq = rotary.apply(q), rk = rotary.apply(k);
  const auto score = [&](int64_t i, int64_t j) { return (rq[0][0][i] * rk[0][0][j]).sum().item<double>(); };
  for (int64_t shift : {1, 5, 9}) {
    EXPECT_NEAR(score(3, 1), score(3 + shift, 1 + shift), 1e-5) << shift;
    EXPECT_NEAR(score(6, 6), score(6 + shift, 6 + shift), 1e-5) << shift;
  }
  EXPECT_GT(std::fabs(score(3, 1) - score(3, 2)), 1e-3);  // but it does see the distance
  EXPECT_TRUE(torch::allclose(rq.norm(2, -1), q.norm(2, -1), 1e-5, 1e-6));  // a rotation
  EXPECT_THROW(Rotary(16, 7), std::invalid_argument);
}

TEST(TinyGptModel, RotaryPositionsAddNothingToTheResidualStream) {
  GPTConfig config = small_config(/*mlp=*/false);
  config.positions = PositionEncoding::kRotary;
  torch::manual_seed(0);
  GPT model(config);
  for (const auto& p : model->named_parameters()) EXPECT_EQ(p.key().find("position"), std::string::npos) << p.key();
  const auto tokens = torch::tensor({{4, 7, 4, 4}}, torch::kLong);
  const auto embed = model->forward_with_taps(tokens, {"embed"}).taps.at("embed");
  EXPECT_TRUE(torch::equal(embed[0][0], embed[0][2]));  // the same token at positions 0 and 2
  config.positions = PositionEncoding::kLearned;
  GPT learned(config);
  const auto learned_embed = learned->forward_with_taps(tokens, {"embed"}).taps.at("embed");
  EXPECT_FALSE(torch::equal(learned_embed[0][0], learned_embed[0][2]));
  EXPECT_EQ(parse_position_encoding("rotary"), PositionEncoding::kRotary);
  EXPECT_EQ(parse_position_encoding("absolute"), std::nullopt);
}

TEST(TinyGptMetrics, PrefixMatchingOnHandBuiltPatterns) {
  const int64_t n = 4, T = 8;
  auto pattern = torch::zeros({1, 3, T, T});
  // Head 0: a perfect induction head. Query i >= n looks at key i - n + 1.
  for (int64_t i = 0; i < T; ++i) pattern[0][0][i][i >= n ? i - n + 1 : 0] = 1.0;
  // Head 1: uniform causal attention.
  for (int64_t i = 0; i < T; ++i) pattern[0][1][i].slice(0, 0, i + 1).fill_(1.0 / double(i + 1));
  // Head 2: previous-token head, which is not prefix matching.
  for (int64_t i = 0; i < T; ++i) pattern[0][2][i][std::max<int64_t>(i - 1, 0)] = 1.0;
  auto scores = prefix_matching_scores(pattern, torch::tensor({n}, torch::kLong));
  ASSERT_EQ(scores.numel(), 3);
  EXPECT_NEAR(scores[0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(scores[1].item<double>(), (1.0 / 5 + 1.0 / 6 + 1.0 / 7 + 1.0 / 8) / 4, 1e-6);
  EXPECT_NEAR(scores[2].item<double>(), 0.0, 1e-6);
}

TEST(TinyGptMetrics, PrefixMatchingFollowsEachRowsCopyLength) {
  // Row 0: m = 4 (no pad); row 1: m = 2 (4 pad tokens, copies at [4,6) and [6,8)).
  const int64_t T = 8;
  auto lengths = torch::tensor({4, 2}, torch::kLong);
  auto pattern = torch::zeros({2, 1, T, T});
  for (int64_t i = 4; i < T; ++i) pattern[0][0][i][i - 3] = 1.0;
  for (int64_t i = 6; i < T; ++i) pattern[1][0][i][i - 1] = 1.0;
  EXPECT_NEAR(prefix_matching_scores(pattern, lengths)[0].item<double>(), 1.0, 1e-6);
  // Row 1 attending as if m were 4 scores zero on its two queries: 4/6 overall.
  pattern[1].zero_();
  for (int64_t i = 6; i < T; ++i) pattern[1][0][i][i - 3] = 1.0;
  EXPECT_NEAR(prefix_matching_scores(pattern, lengths)[0].item<double>(), 4.0 / 6.0, 1e-6);
}

TEST(TinyGptMetrics, LossesPerTargetPosition) {
  // Vocab 4, sequence 0 1 2 3. Logits at position p put all mass on p+1
  // only for p >= 1: target 1 costs ln 4, targets 2 and 3 cost ~0.
  auto tokens = torch::tensor({0, 1, 2, 3}, torch::kLong).view({1, 4});
  auto logits = torch::zeros({1, 4, 4});
  logits[0][1][2] = 50.0;
  logits[0][2][3] = 50.0;
  auto losses = next_token_losses(logits, tokens);
  ASSERT_EQ(losses.sizes(), (std::vector<int64_t>{1, 3}));
  // m = 2: first-copy target 1, second-copy target 3.
  auto m = torch::tensor({2}, torch::kLong);
  EXPECT_TRUE(torch::equal(first_copy_targets(4, m), torch::tensor({true, false, false}).view({1, 3})));
  EXPECT_TRUE(torch::equal(second_copy_targets(4, m), torch::tensor({false, false, true}).view({1, 3})));
  EXPECT_NEAR(masked_mean(losses, first_copy_targets(4, m)), std::log(4.0), 1e-5);
  EXPECT_NEAR(masked_mean(losses, second_copy_targets(4, m)), 0.0, 1e-5);
  EXPECT_THROW(masked_mean(losses, torch::zeros({1, 3}, torch::kBool)), std::invalid_argument);
}

TEST(TinyGptMetrics, InductionLogitMargin) {
  // n = 2, sequence a b a b: only target 3 (b) is a second-copy target
  // with look-back, predicted at position 2.
  auto tokens = torch::tensor({0, 1, 0, 1}, torch::kLong).view({1, 4});
  auto logits = torch::zeros({1, 4, 3});
  logits[0][2][1] = 3.0;  // correct logit 3, mean 1: margin 2
  logits[0][1][0] = 100.0;  // other positions do not count
  EXPECT_NEAR(induction_logit_margin(logits, tokens, torch::tensor({2}, torch::kLong)).item<double>(), 2.0, 1e-6);
}

// hooks/torch_tap.h, the LibTorch API of the hooks, as this model uses it:
// capture() returns detached taps equal to the in-graph ones, record()
// outside a capture keeps nothing, and publish_tensor() flattens and
// converts to the run's dtype before publishing.
TEST(TorchTap, CaptureReturnsEveryTapDetachedAndEqualToTheGraphsOwn) {
  torch::manual_seed(0);
  GPT model(small_config(/*mlp=*/true));
  const auto tokens = torch::randint(0, 10, {3, 12}, torch::kLong);
  torch::Tensor logits;
  const auto captured = model->taps().capture([&] { logits = model->forward(tokens); });
  std::set<std::string> names;
  for (const auto& name : model->config().residual_taps()) names.insert(name);
  for (const auto& name : model->config().pattern_taps()) names.insert(name);
  ASSERT_EQ(captured.size(), names.size());
  const auto in_graph = model->forward_with_taps(tokens, names);
  for (const auto& name : names) {
    const auto& tap = captured.at(name);
    EXPECT_FALSE(tap.requires_grad()) << name;
    EXPECT_TRUE(in_graph.taps.at(name).requires_grad()) << name;
    EXPECT_TRUE(torch::equal(tap, in_graph.taps.at(name))) << name;
  }
  EXPECT_TRUE(torch::equal(logits, in_graph.logits));
}

TEST(TorchTap, NamedCaptureKeepsOnlyThoseAndNothingOutsideACapture) {
  torch::manual_seed(0);
  GPT model(small_config(/*mlp=*/true));
  const auto tokens = torch::randint(0, 10, {1, 8}, torch::kLong);
  const auto one = model->taps().capture({"blocks.1.resid_post"}, [&] { model->forward(tokens); });
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.begin()->first, "blocks.1.resid_post");
  EXPECT_FALSE(model->taps().wants("blocks.1.resid_post"));  // the capture is over
  const torch::Tensor x = torch::ones({2});
  EXPECT_TRUE(model->taps().record("embed", x).is_same(x));
}

TEST(TorchTap, PublishTensorFlattensAndConvertsToTheRunsDtype) {
  RunDescription run;
  run.run = "torch-tap";
  run.taps = {{"blocks.1.resid_post", 4}};
  run.dtype = DType::kBF16;
  run.probe.token_ids = {1, 2, 3, 4, 5, 6};
  run.probe.sequence_length = 3;
  PublisherOptions options;
  // Nobody listens: the snapshot stays queued, which is what is counted.
  options.endpoint = "ipc:///tmp/cw-torch-tap-test-" + std::to_string(getpid());
  options.close_timeout = std::chrono::milliseconds(50);
  Publisher publisher(run, options);
  SnapshotMeta meta;
  meta.key = {run.run, "blocks.1.resid_post", 7, ArrayKind::kProbeActivations, ""};
  // [2 sequences, 3 positions, d 4] in float64: 6 rows of 4 bf16 values.
  EXPECT_TRUE(publish_tensor(publisher, meta, torch::randn({2, 3, 4}, torch::kFloat64)));
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.published, 1u);
  EXPECT_EQ(stats.queued_bytes, 6u * 4u * 2u);
  // A shape that is not the probe's is refused before anything is queued.
  EXPECT_THROW(publish_tensor(publisher, meta, torch::randn({5, 4})), std::invalid_argument);
}

}  // namespace
}  // namespace cw
