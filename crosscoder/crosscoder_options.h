// The crosscoder's options (torch-free, header-only in cw_crosscoder_results):
// what the engine (crosscoder/crosscoder.h) is built with, what the daemon's
// configuration holds (analysis/analysis_config.h) and what a stored state
// records (crosscoder/crosscoder_state.h). The list of options is written
// once, in visit_crosscoder_options(): the stored state and the [crosscoder]
// section of the configuration both read and write through it.
#ifndef CW_CROSSCODER_CROSSCODER_OPTIONS_H_
#define CW_CROSSCODER_CROSSCODER_OPTIONS_H_

#include <cstdint>
#include <stdexcept>
#include <string>

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
  // κ of the fused decoder rows, a penalty on each latent's row changing
  // from one snapshot to the next (crosscoder/decoder_fusion.h; not in the
  // paper's loss). 0: off, the paper's loss.
  double decoder_fusion = 0;
  // Initial decoder row norm: grid search min, max, step on the first batch's MSE.
  double init_norm_min = 0.1;
  double init_norm_max = 5.0;
  double init_norm_step = 0.1;
  int64_t batch_size = 1024;
  // How each snapshot's probe rows are put in the crosscoder's units, as
  // the reference implementation's norm_activation: "snapshot" (the paper's
  // dataset-wise: one scale per snapshot, its rows' mean norm to √d_model)
  // or "token" (its token-wise: every row to norm √d_model). "token" keeps
  // a feature's decoder norm from shrinking when a few large directions
  // come to dominate other tokens' rows (docs/CROSSCODER.md "Token-wise
  // normalisation").
  std::string normalisation = "snapshot";
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
  // Recruits may also take faded latents (firing at older heads, silent at
  // the newest), least energy first, after the dead ones; counted in the
  // share above (docs/CROSSCODER.md "Recruiting faded latents").
  bool recruit_faded = true;
  // Also at the start of each update: a latent whose activations are those of
  // another times a constant, up to this share of its energy, is folded into
  // it and freed (crosscoder/coactivation.h). 0: never.
  double merge_unexplained = 0.01;
  // Also at the start of each update, before recruitment: a latent whose
  // decoded energy at the newest head the other active latents reconstruct
  // (their activations refitted) up to this share is zeroed and freed
  // (crosscoder/refit_ablation.h; the value: docs/CROSSCODER.md "Latents the
  // others reconstruct"). 0: never.
  double fold_unexplained = 0.1;
  // Also at the start of each update: a latent that went off at head s and
  // one that came on there with a decoder direction within this |cos| of its
  // are joined, the second taking the first's heads before s
  // (crosscoder/handover_latents.h). 0: never.
  double join_handover_cosine = 0.9;
  // Also at the start of each update, after recruitment: a latent whose
  // decoder norm went on, off and on again, returning with a direction at
  // |cos| below this to the one it had before, is split in two at the head
  // where it returns (crosscoder/returning_latents.h). 0 (default): never —
  // measured at 0.5, not adopted: it dated the planted mixed stream's atoms
  // worse (docs/CROSSCODER.md "Latents that come back with another direction").
  double split_returning_cosine = 0;
  // After each update and each budget between arrivals: a latent's decoder
  // rows at the heads where the readout calls it faded (normalised norm
  // below 0.3 after it was at 0.5) are zeroed, so it stops firing there
  // (crosscoder/faded_rows.h; docs/CROSSCODER.md "Faded rows are silenced").
  bool silence_faded_rows = true;
  // The activation evidence for a rare feature (fewer than 8 firing probe
  // tokens at its strongest head): measured in its newest era's direction
  // where it is still present in another one, and on the 8 tokens that
  // project most where it fires on too few (crosscoder/emergence_evidence.h).
  // false: such a feature's strength is unmeasured (NaN), as before
  // (docs/CROSSCODER.md "Rare features").
  bool rare_feature_evidence = true;
  // One probe row in this many is never trained on (0: none): evaluate()
  // reports its explained variance and L0 apart, so that a crosscoder
  // memorising a small probe set shows it (crosscoder/held_out_rows.h;
  // docs/CROSSCODER.md "The probe set is memorised below 32 tokens per
  // dimension"). 32: ~3% fewer rows to train on; at 4,096 probe tokens
  // 128 held out, enough to read an explained variance to ~0.01.
  int64_t hold_out_every = 32;
  bool use_sparse_path = true;         // active-latent decoder and encoder-gradient path
  // Metrics: a feature active on more than this share of probe tokens is dense.
  double dense_frequency = 0.1;
  int64_t progress_every = 10;         // train() calls progress every this many steps (and at the end)
};

// Whether every probe row is scaled on its own (normalisation "token").
inline bool token_wise(const CrosscoderOptions& o) { return o.normalisation == "token"; }

// Whether a stored state must hold the option: those added after the first
// stored states are optional on load (an older state gets the default).
enum class OptionKey { kRequired, kOptional };

// Throws std::invalid_argument naming the option when one of these is
// outside its range: the checks the crosscoder's constructor and the
// daemon's config share, so that both refuse a value in the same words.
inline void check_option_ranges(const CrosscoderOptions& o) {
  if (!(o.fold_unexplained >= 0 && o.fold_unexplained < 1))
    throw std::invalid_argument("fold_unexplained must be in [0, 1) (0 turns the fold off)");
  if (!(o.join_handover_cosine >= 0 && o.join_handover_cosine <= 1))
    throw std::invalid_argument("join_handover_cosine must be in [0, 1] (0 turns joining off)");
  if (!(o.decoder_fusion >= 0 && o.decoder_fusion < 1e6))
    throw std::invalid_argument("decoder_fusion must be a number >= 0 and below 1e6 (0 turns the fused decoder rows off)");
  if (o.hold_out_every < 0 || o.hold_out_every == 1)
    throw std::invalid_argument("hold_out_every must be 0 (hold no row out) or at least 2 (one row in that many)");
  if (o.normalisation != "snapshot" && o.normalisation != "token")
    throw std::invalid_argument("normalisation must be \"snapshot\" (one scale per snapshot, the paper's) or \"token\" "
                                "(every probe row to norm sqrt(d_model)), not \"" + o.normalisation + "\"");
}

// Calls v(name, field, key) for every option of `o`, in declaration order.
// `Options` is CrosscoderOptions or const CrosscoderOptions.
template <typename Options, typename Visit>
void visit_crosscoder_options(Options& o, Visit&& v) {
  v("d_model", o.d_model, OptionKey::kRequired);
  v("n_features", o.n_features, OptionKey::kRequired);
  v("lr", o.lr, OptionKey::kRequired);
  v("adam_beta1", o.adam_beta1, OptionKey::kRequired);
  v("adam_beta2", o.adam_beta2, OptionKey::kRequired);
  v("warmup_fraction", o.warmup_fraction, OptionKey::kRequired);
  v("decay_fraction", o.decay_fraction, OptionKey::kRequired);
  v("final_lr_ratio", o.final_lr_ratio, OptionKey::kOptional);
  v("adam_eps", o.adam_eps, OptionKey::kOptional);
  v("threshold_lr_scale", o.threshold_lr_scale, OptionKey::kRequired);
  v("sparsity_lambda", o.sparsity_lambda, OptionKey::kRequired);
  v("lambda_warmup_fraction", o.lambda_warmup_fraction, OptionKey::kRequired);
  v("initial_threshold", o.initial_threshold, OptionKey::kRequired);
  v("ste_window", o.ste_window, OptionKey::kRequired);
  v("tanh_scale", o.tanh_scale, OptionKey::kRequired);
  v("quad_scale", o.quad_scale, OptionKey::kRequired);
  v("decoder_fusion", o.decoder_fusion, OptionKey::kOptional);
  v("init_norm_min", o.init_norm_min, OptionKey::kOptional);
  v("init_norm_max", o.init_norm_max, OptionKey::kOptional);
  v("init_norm_step", o.init_norm_step, OptionKey::kOptional);
  v("batch_size", o.batch_size, OptionKey::kRequired);
  v("normalisation", o.normalisation, OptionKey::kOptional);
  v("seed", o.seed, OptionKey::kRequired);
  v("device", o.device, OptionKey::kRequired);
  v("threads", o.threads, OptionKey::kRequired);
  v("steps_per_update", o.steps_per_update, OptionKey::kRequired);
  v("seconds_per_update", o.seconds_per_update, OptionKey::kRequired);
  v("dead_frequency", o.dead_frequency, OptionKey::kRequired);
  v("recruit_fraction", o.recruit_fraction, OptionKey::kRequired);
  v("recruit_faded", o.recruit_faded, OptionKey::kOptional);
  v("merge_unexplained", o.merge_unexplained, OptionKey::kOptional);
  v("fold_unexplained", o.fold_unexplained, OptionKey::kOptional);
  v("join_handover_cosine", o.join_handover_cosine, OptionKey::kOptional);
  v("split_returning_cosine", o.split_returning_cosine, OptionKey::kOptional);
  v("silence_faded_rows", o.silence_faded_rows, OptionKey::kOptional);
  v("rare_feature_evidence", o.rare_feature_evidence, OptionKey::kOptional);
  v("hold_out_every", o.hold_out_every, OptionKey::kOptional);
  v("use_sparse_path", o.use_sparse_path, OptionKey::kRequired);
  v("dense_frequency", o.dense_frequency, OptionKey::kOptional);
  v("progress_every", o.progress_every, OptionKey::kOptional);
}

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_OPTIONS_H_
