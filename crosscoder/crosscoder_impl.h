// The crosscoder's state behind the public pimpl (private header, torch).
#ifndef CW_CROSSCODER_CROSSCODER_IMPL_H_
#define CW_CROSSCODER_CROSSCODER_IMPL_H_

#include <torch/types.h>

#include <random>
#include <string>
#include <vector>

#include "crosscoder/adam_state.h"
#include "crosscoder/coactivation.h"
#include "crosscoder/crosscoder.h"
#include "crosscoder/probe_rows.h"
#include "crosscoder/refit_ablation.h"
#include "crosscoder/training_step.h"

namespace cw {

// The device named by CrosscoderOptions::device; throws
// std::invalid_argument naming what is missing (a CUDA build, a GPU).
torch::Device training_device(const std::string& name);

struct Crosscoder::Impl {
  CrosscoderOptions options;
  std::vector<uint64_t> steps;
  std::vector<double> scales;             // raw → normalised: x_norm = x_raw · scale
  InMemoryRows memory;                    // the activations, unless streamed
  std::unique_ptr<StreamedRows> streamed; // set by stream_from(): read on demand instead
  // A head block of a streamed crosscoder on trainer ranks: its training
  // batches, from rank 0 (crosscoder/rows_over_ranks.h); rows() when set.
  std::unique_ptr<ProbeRows> block_rows;
  int64_t n_tokens = 0;
  CrosscoderParams params;
  AdamState adam;                         // moments and per-slice step counts
  int64_t cumulative_steps = 0;           // all steps trained so far (λ's schedule)
  int64_t lambda_horizon = 0;             // λ's warm-up horizon: an update's budget, or train_offline's steps
  int64_t updates = 0;
  int64_t steps_since_update = 0;         // train_between_arrivals' steps since the last train(); -1: not known
  std::mt19937_64 rng;
  double newest_mse = 0;
  double newest_energy = 0;  // E‖x‖² of the newest snapshot's normalised rows
  int64_t measured_heads = 0;  // heads measure_arrivals() has read (all, in a loaded state)
  HeadGroup* group = nullptr;  // head-parallel: the ranks every step sums over (not owned)

  explicit Impl(const CrosscoderOptions& o);
  int64_t n_snap() const { return static_cast<int64_t>(steps.size()); }
  const ProbeRows& rows() const {
    if (block_rows) return *block_rows;
    return streamed ? static_cast<const ProbeRows&>(*streamed) : memory;
  }
  // Rows per analysis chunk whose activations are [rows, T, width].
  int64_t chunk_rows(int64_t width) const { return rows().chunk_rows(n_snap(), width); }
  // Token-wise normalisation (CrosscoderOptions::normalisation "token").
  bool per_row() const { return token_wise(options); }
  // Raw rows of a snapshot in the crosscoder's units (normalised_rows);
  // `scale_out` given: the snapshot's scale is fitted (1 token-wise) and
  // set; null: the rows as scale 1 (the caller multiplies by its scale).
  torch::Tensor normalise(const float* raw, int64_t n_tokens, double* scale_out) const;
  // The scale of the source's snapshot `t` (as normalise() fits it), read
  // in chunks of rows.
  double streamed_scale(int64_t t) const;
  // After the newest snapshot's rows are in place: its head (the paper's
  // init for the first, grown otherwise).
  void add_newest_head();
  // [B, T, d] of random rows from `from` (on the training device), or from
  // rows() when null; never a held-out row.
  torch::Tensor sample_batch(const ProbeRows* from = nullptr);
  // The one-in-`every` of this probe set's held-out rows (held_out_rows.h);
  // 0: none held out.
  int64_t hold_out_every() const;
  // [R] bool: which of rows [begin, end) are held out. Training and every
  // move between updates leave them out; evaluate() reports them apart.
  torch::Tensor held_out(int64_t begin, int64_t end) const;
  torch::Tensor probe_rows(int64_t begin, int64_t end) const;  // [R, T, d]
  // Raw activations of every snapshot → normalised [rows, T, d].
  torch::Tensor normalised_input(const std::vector<const float*>& raw, int64_t rows) const;
  LossConstants constants(double lambda) const;
  // First snapshot / offline: W_D by the grid search on `first_batch`'s MSE
  // over init_norm_min…max (step init_norm_step), W_E = W_Dᵀ at every head.
  void initialise_paper(const torch::Tensor& first_batch);
  void grow_head();                                             // online: W_E^t = 0, W_D^t = W_D^{t−1}
  // Steps [begin, end) of a schedule `budget` steps long (end < 0: budget):
  // train_offline trains its one schedule in pieces, folding redundant
  // latents between them.
  // `seconds` bounds the steps' time (< 0: options.seconds_per_update; 0: no limit).
  TrainReport train_steps(int64_t budget, const std::function<void(int64_t, double)>& progress,
                          const std::atomic<bool>* stop = nullptr, int64_t begin = 0, int64_t end = -1,
                          double seconds = -1);
  void adam_update(const CrosscoderParams& grad, double lr);
  // One forward over the probe set for merging and recruitment: per latent
  // its firing count at its busiest snapshot, the newest head's residual of
  // every row [N, d], and the activations' Gram over co-active pairs.
  struct ProbePass {
    torch::Tensor fired;
    torch::Tensor residual;
    CoactivationGram gram;
    // Per row, the most negative cosine between its newest-head residual and
    // the decoder row of a latent active there [N]: below −0.5 the error is
    // a latent decoding what is not there, not something missing.
    torch::Tensor over_decoded;
    torch::Tensor fired_newest = {};  // [F] rows where the latent fires at the newest head
    torch::Tensor energy = {};        // [F] Σ over rows and heads of f² ‖W_D‖²
    torch::Tensor decoder = {};                       // W_D [T, F, d] contiguous: `ablation` reads it
    std::unique_ptr<RefitAblation> ablation = nullptr;  // when fold_unexplained > 0
  };
  ProbePass probe_pass() const;
  // Folds latents whose activations are proportional to another's into it
  // (coactivation.h) and marks them dead in `pass`. Returns how many.
  int64_t merge_redundant_latents(ProbePass* pass);
  // Empties latents `ids` (they never fire again), resets their Adam state
  // and marks them dead in `pass` (when given), so recruitment can reuse
  // them at once.
  void free_latents(const torch::Tensor& ids, ProbePass* pass);
  // Zeroes latents the others reconstruct (refit_ablation.h) and marks them
  // dead in `pass`. Returns how many.
  int64_t fold_explained_latents(ProbePass* pass);
  // Joins latents that handed a feature over (handover_latents.h): the
  // later one takes the earlier one's heads before the handover, the earlier
  // one is emptied and marked dead in `pass` (when given). Returns how many.
  int64_t join_handovers(ProbePass* pass);
  // Splits latents that returned with another direction
  // (returning_latents.h) onto the latents `pass` counts dead, marking them
  // alive. Returns how many.
  int64_t split_returning_latents(ProbePass* pass);
  // Zeroes the decoder rows of latents at the heads where they have faded
  // (faded_rows.h), with those rows' Adam moments. Returns how many rows.
  int64_t silence_faded_rows();
  // Marks the latents it recruits alive in `pass`; their ids go to
  // `recruited` when given.
  int64_t recruit_dead_latents(ProbePass* pass, std::vector<int64_t>* recruited = nullptr);
  // Per-head activations f^θ [R, T, F] and reconstructions x̂ [R, T, d]
  // of x [R, T, d]; with first_head > 0 only the heads from it on ([R,
  // T − first_head, ·]: the encoder still reads every head).
  void forward(const torch::Tensor& x, torch::Tensor* f, torch::Tensor* x_hat, int64_t first_head = 0) const;
};

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_IMPL_H_
