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

#include "crosscoder/crosscoder_options.h"
#include "crosscoder/crosscoder_results.h"
#include "crosscoder/row_source.h"

namespace cw {

class HeadGroup;     // crosscoder/head_group.h
class TrainerRanks;  // crosscoder/trainer_ranks.h

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

  // From now on the probe rows are read from `source` when a batch or an
  // analysis chunk needs them (crosscoder/row_source.h), instead of held:
  // activations given before are dropped. The source's snapshot t is
  // snapshot t here; it must have every snapshot the crosscoder holds.
  // Training is the same as in memory, bit for bit (the same rows, the
  // same normalisation); analysis passes go over fewer rows at a time when
  // d_model exceeds n_features (docs/ARCHITECTURE.md "Trainer pool and
  // memory cap").
  void stream_from(std::shared_ptr<const RowSource> source);
  bool streamed() const;
  // add_snapshot() for a streamed crosscoder: the rows are the source's
  // snapshot n_snapshots(), read in chunks for the scale's fit.
  void add_streamed_snapshot(uint64_t step);

  // Each snapshot added since the last call, as added ("surprise"): the
  // mean squared reconstruction error of its head and E‖x‖² of its
  // normalised rows (surprise / energy is the share of the snapshot the
  // dictionary missed as it arrived), oldest first, in one pass over the
  // probe set. Snapshots added together read exactly as if each had been
  // measured when it was added: a new head's W_E is zero, so it changes no
  // activation, and nothing trains between adds. One pass, not one per
  // snapshot: a daemon that fell behind adds many at once, and a pass per
  // snapshot made its update grow with the backlog (tinygpt d_model 128:
  // 17 snapshots at once, a 31 s update with 9 training steps in it).
  struct Arrival {
    double mse = 0;
    double energy = 0;
  };
  std::vector<Arrival> measure_arrivals();
  // The newest snapshot's, as the last measure_arrivals() found (kept with
  // the state; energy 0 for a state saved before it was kept).
  double newest_snapshot_mse() const;
  double newest_snapshot_energy() const;

  // Recruits dead latents onto the rows the newest snapshot reconstructs
  // worst (from the second snapshot on), then trains on tuples (x^1 … x^t)
  // of random probe rows for the configured budget. `progress(step, loss)` is
  // called every few steps.
  // When `stop` becomes true training ends after the current step (a daemon
  // that is asked to exit must not wait out a whole update); the report then
  // says `interrupted` and the crosscoder is mid-update: discard it or
  // train() again. With `ranks` the training steps run over them
  // (TrainerRanks::train_budget: a whole budget unless `stop` is set, and a
  // failed rank throws TrainerRanksError after the recruitment, with the
  // training steps not taken).
  TrainReport train(const std::function<void(int64_t, double)>& progress = nullptr,
                    const std::atomic<bool>* stop = nullptr, TrainerRanks* ranks = nullptr);
  // Between the snapshots of a backlog: trains `share` (in (0, 1]) of one
  // update's budget (steps_per_update and seconds_per_update both scaled, at
  // least one step) on the snapshots held, with none of the update's
  // merging, folds or recruitment, and no update counted. A daemon that
  // adds several waiting snapshots calls it after measuring each but the
  // last, so that the next one is measured against heads trained on the one
  // before it, not against a head several snapshots stale (docs/
  // CROSSCODER.md "Backlogs measured one snapshot at a time"). An idle
  // daemon refines with whole budgets of it (share 1: "Refining while idle").
  TrainReport train_between_arrivals(double share, const std::atomic<bool>* stop = nullptr,
                                     TrainerRanks* ranks = nullptr);
  // Joins the latents that handed a feature over (handover_latents.h, at
  // join_handover_cosine; 0 turns it off) as train()'s passes do, and
  // returns how many. The idle refinement calls it before each turn of
  // budgets: training moves a feature from one latent to another there
  // too, with no update's passes after it to join them (docs/CROSSCODER.md
  // "Handovers joined while refining").
  int64_t join_handovers();
  // Steps train_between_arrivals() has trained since the last train() (kept
  // with the state, so that a restarted daemon knows how much of an idle
  // refinement is left); -1 for a state saved before it was kept.
  int64_t steps_since_update() const;

  // Head-parallel training (docs/SCALE_OUT.md "One update over a group"):
  // heads [begin, end) of this crosscoder (their parameters, Adam moments and
  // step counts, scales and activations, the last shared, not copied) with
  // log τ, the schedule's position and the RNG: what one rank of a head
  // group trains. Blocks, one per rank, each given the group with
  // train_in_group(), train the steps this crosscoder would have trained
  // alone, to float rounding; put_head_block() writes each back. Throws
  // std::invalid_argument for a range outside [0, n_snapshots()) or a
  // streamed crosscoder (not split yet).
  Crosscoder head_block(int64_t begin, int64_t end) const;
  // Heads [begin, begin + block.n_snapshots()) and log τ (equal on every
  // rank), with the schedule's position and the RNG, from a block trained
  // apart. Throws std::invalid_argument when the block does not fit.
  void put_head_block(const Crosscoder& block, int64_t begin);
  // From now on every training step sums over `group` (null: alone). A
  // group trains whole budgets, with no seconds limit: ranks stopping on
  // their own clocks would leave the others waiting in a sum. Not owned.
  void train_in_group(HeadGroup* group);

  std::vector<SnapshotMetrics> evaluate() const;
  // FeatureStats::activation_strength alone (crosscoder/emergence_evidence.cc).
  std::vector<float> activation_strength() const;
  FeatureStats feature_stats(int64_t top_k = 8, const std::vector<uint32_t>* probe_token_ids = nullptr) const;

  // W_D^θ rows at snapshot index `snapshot`: [F × d_model] (normalised units).
  std::vector<float> decoder_directions(int64_t snapshot) const;
  // Each feature's W_D row at the snapshot where its norm is largest
  // (the first such on a tie): [F × d_model]. A feature that faded keeps a
  // direction here; at the final snapshot its row may be silenced (zero).
  std::vector<float> strongest_decoder_directions() const;

  // Feature activations f^θ at snapshot index `snapshot` for given raw
  // activations at every snapshot ([n_snap][rows × d_model] raw, un-normalised):
  // returns [rows × F].
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
  friend class TrainerRanks;  // packs and trains head blocks (crosscoder/trainer_ranks.h)
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
// (merge_unexplained; 0 for the paper's method alone); the online-only
// fold_unexplained and join_handover_cosine are off.
Crosscoder train_offline(const CrosscoderOptions& options, const std::vector<uint64_t>& steps,
                         const std::vector<const float*>& activations, int64_t n_tokens, int64_t total_steps,
                         const std::function<void(int64_t, double)>& progress = nullptr);

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_H_
