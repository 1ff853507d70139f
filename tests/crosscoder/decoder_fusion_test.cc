// The fused decoder rows (crosscoder/decoder_fusion.h): the penalty and its
// gradient in closed form, the sparse step against the dense one with it on,
// and the same gradient whatever the split of heads over a group.
#include "crosscoder/decoder_fusion.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "crosscoder/head_group.h"
#include "crosscoder/training_step.h"
#include "tests/crosscoder/random_params.h"

namespace cw {
namespace {

// Rows of one latent (F 1, d 2) over 3 snapshots: (0, 0), (3, 4), (3, 4).
// Penalty (κ/3)(‖(3, 4)‖ + 0) = 5κ/3; the first difference's direction
// (0.6, 0.8) pulls head 0 up and head 1 down; the zero difference pushes
// nothing (its subgradient is taken as 0).
TEST(DecoderFusion, PenaltyAndGradientInClosedForm) {
  const double kappa = 0.9;
  const auto w_dec = torch::tensor({0.0, 0.0, 3.0, 4.0, 3.0, 4.0}, torch::kDouble).view({3, 1, 2});
  auto grad = torch::zeros_like(w_dec);
  EXPECT_DOUBLE_EQ(add_decoder_fusion(w_dec, kappa, 3, nullptr, grad), 5 * kappa / 3);
  const auto s = kappa / 3;
  const auto expected = torch::tensor({-0.6 * s, -0.8 * s, 0.6 * s, 0.8 * s, 0.0, 0.0}, torch::kDouble).view({3, 1, 2});
  EXPECT_TRUE(torch::allclose(grad, expected, 0, 1e-15)) << grad;
  // The autograd expression the dense step uses says the same.
  auto w = w_dec.clone().set_requires_grad(true);
  const auto loss = decoder_fusion_loss(w, kappa);
  EXPECT_DOUBLE_EQ(loss.item<double>(), 5 * kappa / 3);
  loss.backward();
  EXPECT_TRUE(torch::allclose(w.grad(), expected, 0, 1e-15)) << w.grad();
  // Off, or one head: nothing.
  auto none = torch::zeros_like(w_dec);
  EXPECT_EQ(add_decoder_fusion(w_dec, 0, 3, nullptr, none), 0);
  EXPECT_EQ(add_decoder_fusion(w_dec.slice(0, 0, 1), kappa, 1, nullptr, none), 0);
  EXPECT_EQ(none.abs().sum().item<double>(), 0);
}

TEST(DecoderFusion, SparseStepMatchesDenseWithTheFusionOn) {
  const int64_t T = 4, d = 8, F = 40, B = 32;
  const auto p = random_params(T, d, F, torch::kFloat64, 23);
  const auto x = torch::randn({B, T, d}, torch::kFloat64);
  LossConstants c;
  c.lambda = 0.3;
  c.fusion = 2.5;
  const auto dense = dense_step(p, x, c);
  const auto sparse = sparse_step(p, x, c);
  EXPECT_GT(sparse.fusion, 0.1 * sparse.loss);  // large enough to matter
  EXPECT_NEAR(sparse.fusion, dense.fusion, 1e-10 * dense.fusion);
  EXPECT_NEAR(sparse.loss, dense.loss, 1e-10 * std::abs(dense.loss));
  expect_close(sparse.grad, dense.grad, 1e-9, 1e-12);
}

// Ranks as threads of one process: sum() adds every rank's tensor and
// hands each the total, once all have called it.
class ThreadGroup {
 public:
  explicit ThreadGroup(int world) : world_(world) {}
  class Rank : public HeadGroup {
   public:
    Rank(ThreadGroup* group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int world_size() const override { return group_->world_; }
    void sum(torch::Tensor& t) override { group_->sum(t); }
    int64_t bytes_summed() const override { return 0; }

   private:
    ThreadGroup* group_;
    int rank_;
  };

 private:
  void sum(torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t round = round_;
    total_ = arrived_ == 0 ? t.clone() : total_ + t;
    if (++arrived_ == world_) {
      result_ = total_, arrived_ = 0, ++round_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return round_ != round; });
    }
    t.copy_(result_);
  }
  const int world_;
  std::mutex mu_;
  std::condition_variable done_;
  int arrived_ = 0;
  uint64_t round_ = 0;
  torch::Tensor total_, result_;
};

// Five heads over three ranks ([0, 2), [2, 3), [3, 5)) in float32: each
// rank's gradient is bit for bit the one-process gradient of its heads.
TEST(DecoderFusion, ASplitOverRanksGivesTheSameGradientBitForBit) {
  const int64_t T = 5, F = 64, d = 16;
  torch::manual_seed(29);
  const auto w_dec = torch::randn({T, F, d});
  w_dec[3].copy_(w_dec[2]);  // a zero difference across a boundary
  auto whole = torch::zeros_like(w_dec);
  const double penalty = add_decoder_fusion(w_dec, 1.5, T, nullptr, whole);
  const std::vector<std::pair<int64_t, int64_t>> blocks = {{0, 2}, {2, 3}, {3, 5}};
  ThreadGroup group(3);
  std::vector<torch::Tensor> grads(3);
  std::vector<double> penalties(3);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 3; ++r)
    ranks.emplace_back([&, r] {
      ThreadGroup::Rank rank(&group, r);
      const auto block = w_dec.slice(0, blocks[r].first, blocks[r].second).contiguous();
      grads[r] = torch::zeros_like(block);
      penalties[r] = add_decoder_fusion(block, 1.5, T, &rank, grads[r]);
    });
  for (auto& t : ranks) t.join();
  EXPECT_TRUE(torch::equal(torch::cat(grads, 0), whole));
  for (double p : penalties) EXPECT_GT(p, 0);  // each rank has differences into its heads
  EXPECT_NEAR(penalties[0] + penalties[1] + penalties[2], penalty, 1e-12 * penalty);
}

}  // namespace
}  // namespace cw
