// The training step's gradients: both paths against the reference
// implementation's straight-through estimator written out by hand on a tiny
// instance, the dense autograd path against finite differences of its
// frozen-gate loss, and the sparse manual path against the dense one.
#include <gtest/gtest.h>

#include <cmath>

#include "crosscoder/training_step.h"
#include "tests/crosscoder/random_params.h"

namespace cw {
namespace {

LossConstants test_constants() {
  LossConstants c;
  c.lambda = 0.3;
  c.window = 4.0;
  return c;
}

// The reference implementation's estimator (Language-Model-SAEs, JumpReLU
// applied to u = h‖W_D^θ‖ then divided by ‖W_D^θ‖; docs/CROSSCODER.md), by
// hand: f = h·1[u > τ] with ∂f/∂h = 1[u > τ] and no gate term into ‖W_D‖;
// ∂L/∂τ = −(τ/ε) Σ ∂L/∂f / ‖W_D^θ‖ over the pairs with |u − τ| < ε/2 and u > 0.
// d 2, F 2, T 2, batch 2; the weights put pairs in every case: open inside
// and outside the window, closed inside it with u > 0 and with u < 0, closed
// outside it.
TEST(TrainingStep, BothPathsMatchTheReferenceEstimatorInClosedForm) {
  constexpr int B = 2, T = 2, d = 2, F = 2;
  const double x[B][T][d] = {{{-0.4, 0.7}, {-0.5, -0.8}}, {{0.6, -0.5}, {-0.7, 0.1}}};
  const double w_enc[F][T * d] = {{-0.9, 0.1, -1.0, -0.1}, {-0.2, -0.8, -0.8, 0.2}};
  const double w_dec[T][F][d] = {{{-1.0, 0.5}, {-0.3, -0.5}}, {{0.9, -1.0}, {0.3, -1.0}}};
  const double b_enc[T][F] = {{0.0, -0.1}, {-0.2, 0.1}};
  const double b_dec[T][d] = {{0.05, -0.1}, {0.2, 0.0}};
  const double tau[F] = {0.3, 0.6};
  LossConstants c;
  c.lambda = 0.2;
  c.window = 1.0;
  const double N = B * T;

  // Forward.
  double h[B][F], n[T][F], u[B][T][F], f[B][T][F], s[B][T][F], x_hat[B][T][d];
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < F; ++i) {
      h[b][i] = b_enc[0][i] + b_enc[1][i];
      for (int t = 0; t < T; ++t)
        for (int q = 0; q < d; ++q) h[b][i] += x[b][t][q] * w_enc[i][t * d + q];
    }
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < F; ++i) n[t][i] = std::hypot(w_dec[t][i][0], w_dec[t][i][1]);
  int open_in = 0, open_out = 0, closed_in_positive = 0, closed_in_negative = 0, closed_out = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < F; ++i) {
        u[b][t][i] = h[b][i] * n[t][i];
        const bool open = u[b][t][i] > tau[i], in = std::abs(u[b][t][i] - tau[i]) < c.window / 2;
        open_in += open && in, open_out += open && !in;
        closed_in_positive += !open && in && u[b][t][i] > 0, closed_in_negative += !open && in && u[b][t][i] < 0;
        closed_out += !open && !in;
        f[b][t][i] = open ? h[b][i] : 0.0;
        s[b][t][i] = std::tanh(c.tanh_scale * f[b][t][i] * n[t][i]);
      }
      for (int q = 0; q < d; ++q) {
        x_hat[b][t][q] = b_dec[t][q];
        for (int i = 0; i < F; ++i) x_hat[b][t][q] += f[b][t][i] * w_dec[t][i][q];
      }
    }
  ASSERT_GT(open_in, 0);
  ASSERT_GT(open_out, 0);
  ASSERT_GT(closed_in_positive, 0);
  ASSERT_GT(closed_in_negative, 0);
  ASSERT_GT(closed_out, 0);
  double mse = 0, p_hat[F] = {0, 0};
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < d; ++q) mse += std::pow(x_hat[b][t][q] - x[b][t][q], 2) / N;
      for (int i = 0; i < F; ++i) p_hat[i] += s[b][t][i] / N;
    }
  double loss = mse, dscore[F];
  for (int i = 0; i < F; ++i) {
    loss += c.lambda * p_hat[i] * (1 + p_hat[i] / c.quad_scale);
    dscore[i] = c.lambda * (1 + 2 * p_hat[i] / c.quad_scale) / N;  // ∂L/∂s, every (b, θ)
  }

  // Backward.
  double e[B][T][d], g[B][T][F];  // ∂L/∂x̂, ∂L/∂f
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < d; ++q) e[b][t][q] = 2 * (x_hat[b][t][q] - x[b][t][q]) / N;
      for (int i = 0; i < F; ++i) {
        g[b][t][i] = c.tanh_scale * n[t][i] * dscore[i] * (1 - s[b][t][i] * s[b][t][i]);
        for (int q = 0; q < d; ++q) g[b][t][i] += e[b][t][q] * w_dec[t][i][q];
      }
    }
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  CrosscoderParams want{torch::zeros({F, T * d}, o), torch::zeros({T, F, d}, o), torch::zeros({T, F}, o),
                        torch::zeros({T, d}, o), torch::zeros({F}, o)};
  auto gw_enc = want.w_enc.accessor<double, 2>();
  auto gw_dec = want.w_dec.accessor<double, 3>();
  auto gb_enc = want.b_enc.accessor<double, 2>();
  auto gb_dec = want.b_dec.accessor<double, 2>();
  auto glog_tau = want.log_tau.accessor<double, 1>();
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < F; ++i) {
      double dh = 0;  // ∂L/∂h: through the open pairs only
      for (int t = 0; t < T; ++t) dh += u[b][t][i] > tau[i] ? g[b][t][i] : 0.0;
      for (int k = 0; k < T * d; ++k) gw_enc[i][k] += dh * x[b][k / d][k % d];
      for (int t = 0; t < T; ++t) gb_enc[t][i] += dh;
    }
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < F; ++i) {
      // ‖W_D‖ gets the sparsity score's term and nothing from the gate.
      double dn = 0;
      for (int b = 0; b < B; ++b)
        dn += dscore[i] * c.tanh_scale * f[b][t][i] * (1 - s[b][t][i] * s[b][t][i]);
      for (int q = 0; q < d; ++q) {
        gw_dec[t][i][q] = dn * w_dec[t][i][q] / n[t][i];
        for (int b = 0; b < B; ++b) gw_dec[t][i][q] += f[b][t][i] * e[b][t][q];
      }
    }
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int q = 0; q < d; ++q) gb_dec[t][q] += e[b][t][q];
  for (int i = 0; i < F; ++i) {
    double dtau = 0;
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t)
        if (std::abs(u[b][t][i] - tau[i]) < c.window / 2 && u[b][t][i] > 0)
          dtau -= tau[i] / c.window * g[b][t][i] / n[t][i];
    glog_tau[i] = tau[i] * dtau;
  }

  CrosscoderParams p{torch::from_blob(const_cast<double*>(&w_enc[0][0]), {F, T * d}, o).clone(),
                     torch::from_blob(const_cast<double*>(&w_dec[0][0][0]), {T, F, d}, o).clone(),
                     torch::from_blob(const_cast<double*>(&b_enc[0][0]), {T, F}, o).clone(),
                     torch::from_blob(const_cast<double*>(&b_dec[0][0]), {T, d}, o).clone(),
                     torch::log(torch::tensor({tau[0], tau[1]}, o))};
  const auto xt = torch::from_blob(const_cast<double*>(&x[0][0][0]), {B, T, d}, o).clone();
  // Feature 1 has window pairs with u > 0; feature 0's are all at u < 0, which
  // the reference's HEAD leaves out (its paper-release branch did not).
  EXPECT_GT(std::abs(want.log_tau[1].item<double>()), 1e-3);
  EXPECT_EQ(want.log_tau[0].item<double>(), 0.0);
  for (const bool sparse : {false, true}) {
    SCOPED_TRACE(sparse ? "sparse" : "dense");
    const auto r = sparse ? sparse_step(p, xt, c) : dense_step(p, xt, c);
    EXPECT_NEAR(r.loss, loss, 1e-12);
    EXPECT_NEAR(r.mse, mse, 1e-12);
    expect_close(r.grad, want, 1e-10, 1e-13);
  }
}

TEST(TrainingStep, DenseGradientMatchesFiniteDifferencesOfFrozenGate) {
  const int64_t T = 2, d = 3, F = 5, B = 6;
  auto p = random_params(T, d, F, torch::kFloat64, 7);
  const auto x = torch::randn({B, T, d}, torch::kFloat64);
  const auto c = test_constants();
  // The gate frozen at the base point: the loss whose gradient the estimator is.
  const FrozenGate base = freeze_gate(p, x, c);
  // Some pairs must be open, some in the threshold's window but closed.
  ASSERT_GT(base.open.sum().item<double>(), 0);
  ASSERT_GT(((base.open == 0) & (base.dtau != 0)).sum().item<int64_t>(), 0);

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
  // The threshold's pseudo-derivative really reaches τ.
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
