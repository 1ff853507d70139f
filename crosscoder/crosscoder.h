// The cross-snapshot crosscoder of Ge et al. 2025 ("Evolution of Concepts in
// Language Model Pre-Training"), grown online as checkpoints arrive.
// Torch-free header: the implementation (LibTorch) lives in crosscoder/*.cc.
//
// Per snapshot θ with x^θ the normalised activation of one probe token:
//   h     = Σ_θ (x^θ W_E^θ + b_E^θ)                      shared pre-activation
//   f_i^θ = h_i · 1[h_i ‖W_D,i^θ‖ > τ_i]                 JumpReLU gated per snapshot
//   x̂^θ  = f^θ W_D^θ + b_D^θ
//   loss  = mean_θ,tokens ‖x^θ − x̂^θ‖² + λ Σ_i p̂_i (1 + p̂_i / 0.01),
//           p̂_i = mean over batch and snapshots of tanh(4 f_i^θ ‖W_D,i^θ‖)
// See docs/CROSSCODER.md for the exact gradients (straight-through estimator),
// the online schedule and the defaults.
#ifndef CW_CROSSCODER_CROSSCODER_H_
#define CW_CROSSCODER_CROSSCODER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crosscoder/crosscoder_results.h"

namespace cw {

// CrosscoderOptions::sparsity_lambda below 0 means "auto": resolved by
// auto_sparsity_lambda() (crosscoder/sparsity_default.h) when the crosscoder
// is built. The daemon's default.
constexpr double kAutoSparsityLambda = -1;

struct CrosscoderOptions {
  int64_t d_model = 0;
  int64_t n_features = 0;
  // Optimisation (paper: lr 5e-5 at Pythia scale over 800M tokens; our online
  // updates are a few hundred steps, so the default is higher — README.md).
  double lr = 1e-3;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double warmup_fraction = 0.05;       // of each update's steps
  double decay_fraction = 0.2;         // last 20%: linear decay to lr × final_lr_ratio
  double final_lr_ratio = 1.0 / 32;
  double adam_eps = 1e-8;
  double threshold_lr_scale = 0.1;     // log τ learns at lr × 0.1
  double sparsity_lambda = 0.3;         // kAutoSparsityLambda: sized to d_model and n_features (sparsity_default.h)
  // λ ramps from 0 over the first 10% of all training: offline of all steps,
  // online of the first update's steps (the crosscoder's start).
  double lambda_warmup_fraction = 0.1;
  double initial_threshold = 0.1;      // τ
  double ste_window = 4.0;             // ε
  double tanh_scale = 4.0;
  double quad_scale = 0.01;
  // Initial decoder row norm: grid search min, max, step on the first batch's MSE.
  double init_norm_min = 0.1;
  double init_norm_max = 5.0;
  double init_norm_step = 0.1;
  int64_t batch_size = 1024;
  uint64_t seed = 0;
  // Where updates train: "cpu" (the fused sparse step), or "cuda"/"cuda:N"
  // when LibTorch has CUDA and sees a GPU (the dense LibTorch step: the
  // fused kernels are CPU code). The state stays on the CPU between updates.
  std::string device = "cpu";
  int threads = 1;                     // torch intra-op threads (0: torch default)
  // Budget per online update (whichever ends first; seconds 0 = no limit).
  int64_t steps_per_update = 300;
  double seconds_per_update = 0;
  // Dead-latent recruitment at the start of each update (from the second snapshot on).
  double dead_frequency = 1e-6;        // fires on fewer tokens than this: dead
  double recruit_fraction = 0.25;      // at most this share of dead latents per update
  // Also at the start of each update: a latent whose activations are those of
  // another times a constant, up to this share of its energy, is folded into
  // it and freed (crosscoder/coactivation.h). 0: never.
  double merge_unexplained = 0.01;
  bool use_sparse_path = true;         // active-latent decoder and encoder-gradient path
  // Metrics: a feature active on more than this share of probe tokens is dense.
  double dense_frequency = 0.1;
  int64_t progress_every = 10;         // train() calls progress every this many steps (and at the end)
};

class Crosscoder {
 public:
  explicit Crosscoder(const CrosscoderOptions& options);
  ~Crosscoder();
  Crosscoder(Crosscoder&&) noexcept;
  Crosscoder& operator=(Crosscoder&&) noexcept;

  const CrosscoderOptions& options() const;
  int64_t n_snapshots() const;
  std::vector<uint64_t> steps() const;
  int64_t n_tokens() const;

  // Adds snapshot t (online growth): head t gets W_E^t = 0 — every existing
  // feature's activations are unchanged at this instant — and W_D^t, b_D^t
  // copied from head t−1; its normalisation scale is fitted on `activations`
  // (float32 row-major [n_tokens × d_model]; row i is the same probe token in
  // every snapshot). The first snapshot initialises W_D by the paper's grid
  // search and W_E = W_Dᵀ. Throws std::invalid_argument on a shape mismatch.
  void add_snapshot(uint64_t step, const float* activations, int64_t n_tokens);

  // Reconstruction error of the newest snapshot before training on it
  // ("surprise"): mse of that head, computed with W_E^t = 0 as added.
  double newest_snapshot_mse() const;

  // Recruits dead latents onto the rows the newest snapshot reconstructs
  // worst (from the second snapshot on), then trains on tuples (x^1 … x^t)
  // of random probe rows for the configured budget. `progress(step, loss)` is
  // called every few steps.
  // When `stop` becomes true training ends after the current step (a daemon
  // that is asked to exit must not wait out a whole update); the report then
  // says `interrupted` and the crosscoder is mid-update: discard it or
  // train() again.
  TrainReport train(const std::function<void(int64_t, double)>& progress = nullptr,
                    const std::atomic<bool>* stop = nullptr);

  std::vector<SnapshotMetrics> evaluate() const;
  // FeatureStats::activation_strength alone (crosscoder/emergence_evidence.cc).
  std::vector<float> activation_strength() const;
  FeatureStats feature_stats(int64_t top_k = 8, const std::vector<uint32_t>* probe_token_ids = nullptr) const;

  // Feature activations f^θ at snapshot index `snapshot` for given raw
  // activations at every snapshot ([n_snap][rows × d_model] raw, un-normalised):
  // returns [rows × F].
  // W_D^θ rows at snapshot index `snapshot`: [F × d_model] (normalised units).
  std::vector<float> decoder_directions(int64_t snapshot) const;
  // Every nonzero f_i^θ on the probe set at `snapshot`, by row then feature.
  std::vector<FeatureActivation> probe_activations(int64_t snapshot) const;

  std::vector<float> encode(const std::vector<const float*>& raw_per_snapshot, int64_t rows, int64_t snapshot) const;
  // Attribution of each feature to a task metric at snapshot `snapshot`:
  // Σ_rows f_i^θ · (W_D,i^θ · ∂m/∂x^θ), with ∂m/∂x given for raw activations
  // (the normalisation scale is accounted for). Returns [F].
  std::vector<float> attribution(const std::vector<const float*>& raw_per_snapshot, const float* gradient, int64_t rows,
                                 int64_t snapshot) const;
  // The same at every snapshot at once, with ∂m/∂x^θ given per snapshot
  // (gradient_per_snapshot[θ] is [rows × d_model] raw): one forward instead
  // of one per snapshot. Returns [n_snap × F].
  std::vector<float> attributions(const std::vector<const float*>& raw_per_snapshot,
                                  const std::vector<const float*>& gradient_per_snapshot, int64_t rows) const;

  // Everything needed to resume exactly: weights, Adam state, schedule
  // position, RNG, snapshot steps and scales (the activations are not saved:
  // they live in the store and are re-added with restore_activations()).
  std::string serialize() const;
  static Crosscoder deserialize(const std::string& bytes);
  // After deserialize(): gives back snapshot t's activations without growing.
  void restore_activations(int64_t snapshot, const float* activations, int64_t n_tokens);

  // Writes DIR/crosscoder.safetensors (W_E [n_snap, d_model, F], W_D [n_snap,
  // F, d_model], b_E [n_snap, F], b_D [n_snap, d_model], log_threshold [F],
  // scales [n_snap], steps [n_snap]) and DIR/config.json.
  void export_safetensors(const std::string& dir) const;

  struct Impl;  // crosscoder/crosscoder_impl.h (torch)

 private:
  explicit Crosscoder(std::unique_ptr<Impl> impl);
  friend Crosscoder train_offline(const CrosscoderOptions&, const std::vector<uint64_t>&,
                                  const std::vector<const float*>&, int64_t, int64_t,
                                  const std::function<void(int64_t, double)>&);

  // train_offline builds every head with the paper's init (W_E = W_Dᵀ),
  // which add_snapshot's online growth does not do.
  friend Crosscoder train_offline(const CrosscoderOptions&, const std::vector<uint64_t>&,
                                  const std::vector<const float*>&, int64_t, int64_t,
                                  const std::function<void(int64_t, double)>&);
  std::unique_ptr<Impl> impl_;
};

// Throws std::invalid_argument unless `device` (CrosscoderOptions::device)
// can be trained on here; the message names what is missing (a CUDA build
// of LibTorch, a visible GPU). For checking a configuration at start-up.
void check_device(const std::string& device);

// The paper's method: a fresh crosscoder trained on all snapshots at once
// (`total_steps` steps), to compare online against offline.
// Initialisation as the paper: W_D identical for every head, W_E^θ = W_D^θᵀ.
// No dead-latent recruitment. λ ramps over the first 10% of `total_steps`.
// Redundant latents are folded every steps_per_update steps, as online
// (merge_unexplained; 0 for the paper's method alone).
Crosscoder train_offline(const CrosscoderOptions& options, const std::vector<uint64_t>& steps,
                         const std::vector<const float*>& activations, int64_t n_tokens, int64_t total_steps,
                         const std::function<void(int64_t, double)>& progress = nullptr);

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_H_
