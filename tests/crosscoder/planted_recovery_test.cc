// Recovery of a planted dictionary, online (add + train per snapshot) and
// offline (the paper's method), and online ≈ offline.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "crosscoder/crosscoder.h"
#include "examples/planted/planted_dictionary.h"
#include "tests/crosscoder/safetensors_reader.h"

namespace cw {
namespace {


CrosscoderOptions recovery_options() {
  CrosscoderOptions o;
  o.d_model = 32;
  o.n_features = 64;
  o.batch_size = 256;
  o.steps_per_update = 600;
  o.lr = 3e-3;
  // 64 features at L0 ≈ 3 fire on ~5% of tokens each, where the tanh-quad
  // penalty's p̂/0.01 term is ~5× the paper's regime: λ scaled down to match.
  o.sparsity_lambda = 0.02;
  o.seed = 2;
  o.threads = 1;
  if (const char* v = std::getenv("CW_TUNE_LAMBDA")) o.sparsity_lambda = std::atof(v);
  if (const char* v = std::getenv("CW_TUNE_LR")) o.lr = std::atof(v);
  if (const char* v = std::getenv("CW_TUNE_STEPS")) o.steps_per_update = std::atoi(v);
  if (const char* v = std::getenv("CW_TUNE_F")) o.n_features = std::atoi(v);
  if (const char* v = std::getenv("CW_TUNE_SEED")) o.seed = std::atoi(v);
  if (const char* v = std::getenv("CW_TUNE_MERGE")) o.merge_unexplained = std::atof(v);
  return o;
}

// Mean over atoms on at the final snapshot of the best cosine with a learned
// decoder direction at that snapshot.
double mean_max_cosine(const PlantedDictionary& p, Crosscoder& cc, const std::string& tag) {
  const std::string dir = ::testing::TempDir() + "/cw_planted_" + tag;
  cc.export_safetensors(dir);
  const int64_t T = p.options.n_snapshots, d = p.options.d_model, K = p.options.n_atoms;
  auto w = read_safetensor(dir + "/crosscoder.safetensors", "W_D")[T - 1];  // [F, d]
  w = w / w.norm(2, {1}, true).clamp_min(1e-12);
  const auto atoms = torch::from_blob(const_cast<float*>(p.atoms[T - 1].data()), {K, d}).clone();
  const auto best = std::get<0>(torch::mm(atoms, w.t()).max(1));
  double sum = 0;
  int n = 0;
  for (int64_t k = 0; k < K; ++k)
    if (p.is_on(k, T - 1)) sum += best[k].item<double>(), ++n;
  return sum / n;
}

TEST(PlantedRecovery, OnlineRecoversAtomsAndMatchesOffline) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const auto opt = recovery_options();
  const int64_t T = p.options.n_snapshots, N = p.options.n_tokens;
  Crosscoder online(opt);
  for (int64_t t = 0; t < T; ++t) {
    online.add_snapshot(static_cast<uint64_t>(t * 100), p.activations[t].data(), N);
    const auto t0 = std::chrono::steady_clock::now();
    online.train();
    // CW_TIME=1: seconds per update (docs/CROSSCODER.md's per-update cost).
    if (std::getenv("CW_TIME"))
      std::printf("update %lld: %.3f s\n", static_cast<long long>(t),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const auto m_on = online.evaluate().back();
  const double cos_on = mean_max_cosine(p, online, "online");
  const double planted_l0 = p.mean_active(T - 1);

  std::vector<uint64_t> steps;
  std::vector<const float*> acts;
  for (int64_t t = 0; t < T; ++t) steps.push_back(t * 100), acts.push_back(p.activations[t].data());
  // Offline gets four times online's total steps: at 1× its L0 was still
  // falling at the newest snapshots (3.20-3.50 against the planted 2.65,
  // mean max cosine 0.956), at 4× it has settled (2.70-2.87, cosine
  // ≥ 0.993; docs/CROSSCODER.md). The comparison is against the paper's
  // method done to convergence, not against an undertrained one.
  int64_t offline_steps = 4 * opt.steps_per_update * T;
  if (const char* v = std::getenv("CW_TUNE_OFFLINE_STEPS")) offline_steps = std::atoll(v);
  auto offline = train_offline(opt, steps, acts, N, offline_steps);
  const auto m_off = offline.evaluate().back();
  const double cos_off = mean_max_cosine(p, offline, "offline");
  const auto all_on = online.evaluate(), all_off = offline.evaluate();
  for (std::size_t t = 0; t < all_on.size(); ++t) {
    std::printf("snapshot %zu: online EV %.4f L0 %.2f | offline EV %.4f L0 %.2f | planted L0 %.2f\n", t,
                all_on[t].explained_variance, all_on[t].l0, all_off[t].explained_variance, all_off[t].l0,
                p.mean_active(static_cast<int64_t>(t)));
  }
  std::printf("online: EV %.4f L0 %.3f cos %.4f | offline: EV %.4f L0 %.3f cos %.4f | planted L0 %.3f\n",
              m_on.explained_variance, m_on.l0, cos_on, m_off.explained_variance, m_off.l0, cos_off, planted_l0);

  EXPECT_GE(cos_on, 0.9);
  EXPECT_GE(m_on.explained_variance, 0.9);
  EXPECT_GE(cos_off, 0.9);
  // Offline is the paper's method with the reference estimator. It sits on
  // the planted L0 at every snapshot before the last two (0.77 0.96 1.25
  // 1.44 1.73 2.00 against 0.77 0.96 1.25 1.44 1.73 2.01; with the old
  // surrogate estimator it was 25-35% above); the two atoms that switch on
  // at the last two snapshots are only partly learned in its 19,200 steps,
  // so its final EV is 0.974 (it was 0.999 with the surrogate, whose gate
  // gradient grew a late head's norm: docs/CROSSCODER.md, "Estimator").
  EXPECT_GE(m_off.explained_variance, 0.96);
  for (int64_t t = 0; t + 2 < T; ++t) {
    SCOPED_TRACE("offline, snapshot " + std::to_string(t));
    EXPECT_NEAR(all_off[t].l0, p.mean_active(t), 0.05 * p.mean_active(t));
  }
  // Online against offline: EV within 0.02 at every snapshot (measured:
  // within 0.01). Online L0 carries an excess of ~0.36 active latents per
  // token at every snapshot over the planted one (1.31 at snapshot 0
  // against 0.77), not yet explained: it is what keeps the online mean
  // L0 25% above offline's (bar 30%), while at the final snapshot online is
  // within 10% of the planted L0 (2.89 against 2.65).
  double l0_on = 0, l0_off = 0;
  for (std::size_t t = 0; t < all_on.size(); ++t) {
    SCOPED_TRACE("snapshot " + std::to_string(t));
    EXPECT_NEAR(all_on[t].explained_variance, all_off[t].explained_variance, 0.02);
    l0_on += all_on[t].l0, l0_off += all_off[t].l0;
  }
  EXPECT_NEAR(l0_on / l0_off, 1.0, 0.3);
  EXPECT_NEAR(m_on.l0, planted_l0, 0.1 * planted_l0);
}

}  // namespace
}  // namespace cw
