// The crosscoder's plain results: per-snapshot metrics, per-feature
// statistics, probe activations and a training report. Header-only and
// torch-free (library cw_crosscoder_results), so that the analysis of them
// (analysis/feature_analysis.h) needs neither the crosscoder nor torch;
// crosscoder/crosscoder.h produces them.
#ifndef CW_CROSSCODER_CROSSCODER_RESULTS_H_
#define CW_CROSSCODER_CROSSCODER_RESULTS_H_

#include <cstdint>
#include <vector>

namespace cw {

// On the probe rows the crosscoder trains on (all but the held-out ones,
// crosscoder/held_out_rows.h), and apart on the held-out rows.
struct SnapshotMetrics {
  uint64_t step = 0;
  double explained_variance = 0;  // 1 − E‖x − x̂‖² / E‖x − x̄‖² on the probe set
  double l0 = 0;                  // mean active features per token at this snapshot
  double dead_fraction = 0;       // features never active on the probe set at this snapshot
  double dense_fraction = 0;      // features active on > 10% of probe tokens
  double mse = 0;                 // mean ‖x − x̂‖² per token (normalised units)
  // The same on the held-out rows (0 of them: none held out, both 0). Far
  // below explained_variance (L0 far above l0): the crosscoder memorises
  // the rows it trains on.
  int64_t held_out_rows = 0;
  double held_out_explained_variance = 0;
  double held_out_explained_variance_se = 0;  // its standard error, from the rows' errors' spread
  double held_out_l0 = 0;
};

// Probe tokens per dimension of d_model below which the crosscoder was
// seen memorising them (planted streams at d_model 64, 128 and 256: 16 per
// dimension memorised, 24 was on the edge, 32 did not); the daemon warns
// below it.
constexpr int64_t kEnoughProbeTokensPerDimension = 32;

// The held-out rows' explained variance more than this below that of the
// rows trained on, by more than two standard errors, reads as memorising.
// 0.1: measured on 1,024-2,048 fresh rows of planted streams, the gap was
// 0.03-0.06 at 32 or more probe tokens per dimension of d_model (every bar
// met) and 0.10-0.28 at 16 (L0 1.2-13 × the planted one); the two standard
// errors keep a few dozen held-out rows (the crosscoder's 23 of a 1,024-row
// probe set read a 0.06 gap as 0.09-0.11) from calling it.
// docs/CROSSCODER.md "The probe set is memorised below 32 tokens per
// dimension".
constexpr double kMemorisedGap = 0.1;

inline bool memorised(const SnapshotMetrics& m) {
  return m.held_out_rows > 0 &&
         m.explained_variance - m.held_out_explained_variance - 2 * m.held_out_explained_variance_se > kMemorisedGap;
}

// Per feature, per snapshot statistics on the probe set.
struct FeatureStats {
  std::vector<float> decoder_norm;     // [T × F] ‖W_D,i^θ‖ (normalised units)
  std::vector<float> frequency;        // [T × F] fraction of probe tokens with f_i^θ > 0
  std::vector<float> mean_activation;  // [T × F] mean f_i^θ over tokens where it fires
  std::vector<float> max_activation;   // [T × F]
  std::vector<float> cos_previous;     // [T × F] cos(W_D,i^θ, W_D,i^{θ−1}); 1 at θ = 0
  std::vector<float> cos_latest;       // [T × F] cos(W_D,i^θ, W_D,i^{T−1})
  // Top-k probe rows per feature at the latest snapshot: [F × k] row index
  // and activation (activation 0 = unused slot), strongest first.
  std::vector<uint32_t> top_rows;
  std::vector<float> top_activations;
  int64_t top_k = 0;
  // Per feature at the latest snapshot: share of its activation variance over
  // probe tokens not explained by the current token's identity (0 = a pure
  // token feature, 1 = entirely contextual). NaN when it never fires.
  std::vector<float> contextuality;
  // [T × F] the feature's strength in the activations themselves, 1 at its
  // strongest snapshot; NaN when unmeasurable (crosscoder/emergence_evidence.h).
  std::vector<float> activation_strength;
};

struct TrainReport {
  int64_t steps = 0;
  double seconds = 0;
  double first_loss = 0;
  double last_loss = 0;
  double tokens_per_second = 0;
  int64_t recruited = 0;
  // The latents recruitment took at the start (dead or faded): their ids now
  // name other features, whose histories start afresh.
  std::vector<int64_t> recruited_features;
  int64_t merged = 0;        // redundant latents folded into another at the start
  int64_t joined = 0;        // latents that handed a feature over, joined at the start (handover_latents.h)
  int64_t folded = 0;        // latents the others reconstruct, freed at the start (refit_ablation.h)
  int64_t split = 0;         // latents that returned with another direction, split in two at the start
  int64_t silenced = 0;      // decoder rows of faded latents zeroed after training (faded_rows.h)
  bool interrupted = false;  // `stop` was set: fewer steps than the budget
};

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_RESULTS_H_
