// Throughput of one crosscoder training step (loss + gradients): the plain
// dense autograd implementation against our sparse manual path, plus this
// machine's plain matmul GFLOP/s, our encoder forward as a share of it, and
// "floor": the time of the step's two GEMM units at plain-matmul speed as a
// share of our step (100% = nothing but the two GEMMs).
// Usage: cw_bench_crosscoder [--quick] [--threads N] [--profile]
// --profile: also print the sparse step's phases (mean seconds per step).
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "crosscoder/training_step.h"

namespace {

double median_seconds(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Random parameters with thresholds set so that about `l0` features fire per row.
cw::CrosscoderParams make_params(int64_t T, int64_t d, int64_t F, const torch::Tensor& x, double l0) {
  cw::CrosscoderParams p;
  p.w_enc = torch::randn({F, T * d}) / std::sqrt(static_cast<double>(T * d));
  p.w_dec = torch::randn({T, F, d}) / std::sqrt(static_cast<double>(d));
  p.b_enc = torch::zeros({T, F});
  p.b_dec = torch::zeros({T, d});
  p.log_tau = torch::zeros({F});
  const auto u = (cw::pre_activation(p, x) * cw::decoder_norms(p)[0]).flatten();
  const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(u.numel() * (1.0 - l0 / F)));
  const double tau = std::get<0>(u.kthvalue(k)).item<double>();
  p.log_tau.fill_(std::log(std::max(tau, 1e-3)));
  return p;
}

void print_phases(const cw::PhaseTimes& phases, int calls) {
  double total = 0;
  for (const auto& e : phases.seconds) total += e.second;
  for (const auto& e : phases.seconds)
    std::printf("    %-18s %7.3f s %5.1f%%\n", e.first.c_str(), e.second / calls, 100.0 * e.second / total);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, profile = false;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--profile")) profile = true;
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
  }
  if (threads > 0) torch::set_num_threads(threads);
  torch::NoGradGuard outer;  // dense_step enables grad on its own copies
  torch::manual_seed(0);
  const int64_t d = 256, B = 1024;
  const int repeats = 3;
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("crosscoder step, d_model %lld, batch %lld, %d torch threads, OPENBLAS_CORETYPE=%s, median of %d\n",
              static_cast<long long>(d), static_cast<long long>(B), torch::get_num_threads(),
              coretype ? coretype : "(unset)", repeats);
  std::printf("%9s %5s %9s | %14s %14s %7s | %11s %11s %7s %6s | %5s\n", "features", "snaps", "dense B",
              "dense tok/s", "ours tok/s", "speedup", "matmul GF/s", "encoder GF/s", "share", "floor", "L0");
  std::vector<int64_t> feature_counts = quick ? std::vector<int64_t>{4096} : std::vector<int64_t>{4096, 16384};
  std::vector<int64_t> snapshot_counts = quick ? std::vector<int64_t>{8} : std::vector<int64_t>{8, 32};
  for (int64_t F : feature_counts)
    for (int64_t T : snapshot_counts) {
      const auto x = torch::randn({B, T, d});
      auto p = make_params(T, d, F, x, 32);
      cw::LossConstants c;
      c.lambda = 0.3;
      // The dense reference materialises several [B, T, F] tensors: shrink its
      // batch to keep it under ~0.5 GB each.
      const int64_t dense_b = std::min<int64_t>(B, std::max<int64_t>(64, (int64_t{1} << 27) / (T * F)));
      const auto x_dense = x.slice(0, 0, dense_b).contiguous();
      const double t_dense = median_seconds(repeats, [&] { cw::dense_step(p, x_dense, c); });
      double l0 = 0;
      cw::PhaseTimes phases;
      cw::CrosscoderParams spare;  // as the trainer does (StepContext::reuse)
      cw::StepContext context;
      context.phases = &phases;
      context.reuse = &spare;
      const double t_ours = median_seconds(repeats, [&] { spare = cw::sparse_step(p, x, c, context).grad; });
      {
        const auto h = cw::pre_activation(p, x);
        l0 = (h.unsqueeze(1) * cw::decoder_norms(p).unsqueeze(0) > p.log_tau.exp()).sum().item<double>() / (B * T);
      }
      const auto a = torch::randn({B, T * d}), b = torch::randn({T * d, F});
      const double flops = 2.0 * B * T * d * F;
      const double t_mm = median_seconds(repeats, [&] { torch::mm(a, b); });
      const auto x_cat = x.reshape({B, -1});
      const double t_enc = median_seconds(repeats, [&] { torch::addmm(p.b_enc.sum(0), x_cat, p.w_enc.t()); });
      std::printf("%9lld %5lld %9lld | %14.0f %14.0f %6.2fx | %11.1f %11.1f %6.0f%% %5.0f%% | %5.1f\n",
                  static_cast<long long>(F), static_cast<long long>(T), static_cast<long long>(dense_b),
                  dense_b / t_dense, B / t_ours, (B / t_ours) / (dense_b / t_dense), flops / t_mm / 1e9,
                  flops / t_enc / 1e9, 100.0 * t_mm / t_enc, 100.0 * 2 * t_mm / t_ours, l0);
      if (profile) print_phases(phases, repeats + 1);
      std::fflush(stdout);
    }
  return 0;
}
