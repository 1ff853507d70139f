// The training step's gradients: the dense autograd reference against finite
// differences of the straight-through surrogate, and the sparse manual path
// against the reference.
#include <gtest/gtest.h>

#include "crosscoder/training_step.h"

namespace cw {
namespace {

CrosscoderParams random_params(int64_t T, int64_t d, int64_t F, torch::Dtype dtype, uint64_t seed) {
  torch::manual_seed(seed);
  auto o = torch::TensorOptions().dtype(dtype);
  CrosscoderParams p;
  p.w_enc = torch::randn({F, T * d}, o) * 0.5;
  p.w_dec = torch::randn({T, F, d}, o) * 0.4;
  p.b_enc = torch::randn({T, F}, o) * 0.1;
  p.b_dec = torch::randn({T, d}, o) * 0.1;
  p.log_tau = torch::log(torch::rand({F}, o) * 0.5 + 0.05);
  return p;
}

LossConstants test_constants() {
  LossConstants c;
  c.lambda = 0.3;
  c.window = 4.0;
  return c;
}

void expect_close(const CrosscoderParams& a, const CrosscoderParams& b, double rtol, double atol) {
  auto pa = const_cast<CrosscoderParams&>(a).all(), pb = const_cast<CrosscoderParams&>(b).all();
  const char* names[] = {"w_enc", "w_dec", "b_enc", "b_dec", "log_tau"};
  for (size_t k = 0; k < pa.size(); ++k) {
    const double err = (*pa[k] - *pb[k]).abs().max().item<double>();
    const double scale = pb[k]->abs().max().item<double>();
    EXPECT_LE(err, atol + rtol * scale) << names[k] << " differs: max abs error " << err << " (scale " << scale << ")";
  }
}

TEST(TrainingStep, DenseGradientMatchesFiniteDifferencesOfSurrogate) {
  const int64_t T = 2, d = 3, F = 5, B = 6;
  auto p = random_params(T, d, F, torch::kFloat64, 7);
  const auto x = torch::randn({B, T, d}, torch::kFloat64);
  const auto c = test_constants();
  // Freeze the gate input at the base point: the surrogate whose gradient the
  // estimator is.
  const auto h = pre_activation(p, x);
  const auto z0 = h.unsqueeze(1) * decoder_norms(p).unsqueeze(0) - p.log_tau.exp();
  const SurrogatePoint base{h, z0};
  // Some entries must be open, some in the window but closed.
  ASSERT_GT((z0 > 0).sum().item<int64_t>(), 0);
  ASSERT_GT(((z0 < 0) & (z0.abs() < c.window / 2)).sum().item<int64_t>(), 0);

  const auto ref = dense_step(p, x, c);
  auto fd = p.zeros_like();
  const double eps = 1e-6;
  auto params = p.all();
  auto grads = fd.all();
  for (size_t k = 0; k < params.size(); ++k) {
    auto flat = params[k]->view({-1});
    auto g = grads[k]->view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      flat[i] = v + eps;
      const double up = dense_loss(p, x, c, &base).item<double>();
      flat[i] = v - eps;
      const double down = dense_loss(p, x, c, &base).item<double>();
      flat[i] = v;
      g[i] = (up - down) / (2 * eps);
    }
  }
  expect_close(ref.grad, fd, 1e-6, 1e-8);
  // The gate's pseudo-derivative really reaches τ and ‖W_D‖.
  EXPECT_GT(ref.grad.log_tau.abs().max().item<double>(), 1e-4);
}

TEST(TrainingStep, SparsePathMatchesDenseInDouble) {
  const int64_t T = 3, d = 8, F = 40, B = 32;
  const auto p = random_params(T, d, F, torch::kFloat64, 11);
  const auto x = torch::randn({B, T, d}, torch::kFloat64);
  const auto c = test_constants();
  const auto dense = dense_step(p, x, c);
  const auto sparse = sparse_step(p, x, c);
  EXPECT_NEAR(sparse.loss, dense.loss, 1e-10 * std::abs(dense.loss));
  EXPECT_NEAR(sparse.mse, dense.mse, 1e-10 * std::abs(dense.mse));
  expect_close(sparse.grad, dense.grad, 1e-9, 1e-12);
}

TEST(TrainingStep, SparsePathMatchesDenseInFloat) {
  const int64_t T = 4, d = 32, F = 256, B = 128;
  const auto p = random_params(T, d, F, torch::kFloat32, 13);
  const auto x = torch::randn({B, T, d});
  const auto c = test_constants();
  const auto dense = dense_step(p, x, c);
  const auto sparse = sparse_step(p, x, c);
  EXPECT_NEAR(sparse.loss, dense.loss, 1e-4 * std::abs(dense.loss));
  expect_close(sparse.grad, dense.grad, 1e-4, 1e-6);
}

// More features than one block of the sparse path's backward GEMM (2,048),
// the last block partial.
TEST(TrainingStep, SparsePathMatchesDenseAcrossFeatureBlocks) {
  const int64_t T = 2, d = 8, F = 4200, B = 16;
  const auto p = random_params(T, d, F, torch::kFloat64, 17);
  const auto x = torch::randn({B, T, d}, torch::kFloat64);
  const auto c = test_constants();
  const auto dense = dense_step(p, x, c);
  const auto sparse = sparse_step(p, x, c);
  EXPECT_NEAR(sparse.loss, dense.loss, 1e-10 * std::abs(dense.loss));
  expect_close(sparse.grad, dense.grad, 1e-9, 1e-12);
}

}  // namespace
}  // namespace cw
