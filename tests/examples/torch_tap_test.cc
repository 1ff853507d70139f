// hooks/torch_tap.h, the LibTorch API of the hooks, as tinygpt's model uses
// it: capture() returns detached taps equal to the in-graph ones, record()
// outside a capture keeps nothing, and publish_tensor() flattens and
// converts to the run's dtype before publishing.
#include "hooks/torch_tap.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "examples/tinygpt/model.h"

namespace cw {
namespace {

GPT small_model() {
  GPTConfig c;
  c.vocab_size = 10;
  c.context = 16;
  c.n_layers = 2;
  c.d_model = 32;
  c.n_heads = 4;
  c.mlp = true;
  torch::manual_seed(0);
  return GPT(c);
}

TEST(TorchTap, CaptureReturnsEveryTapDetachedAndEqualToTheGraphsOwn) {
  GPT model = small_model();
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
  GPT model = small_model();
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
