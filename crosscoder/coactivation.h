// Redundant latents: pairs whose activations are proportional over the probe
// set, f_j^θ ≈ c · f_i^θ at every token and snapshot. Such a pair decodes
// f_i (W_D,i + c W_D,j) at every head: one latent holding W_D,i + c W_D,j
// reconstructs the same, and the other is free for recruitment. Training
// does not find that move itself (the sparsity penalty's gradient on the
// duplicate is small against the loss of dropping it step by step), so
// duplicates left by the first update stay (docs/CROSSCODER.md).
//
// Only co-active pairs can be proportional, so the Gram of the activations is
// accumulated over each probe row's active set (~L0 latents), not over all
// F² pairs. Torch-free.
#ifndef CW_CROSSCODER_COACTIVATION_H_
#define CW_CROSSCODER_COACTIVATION_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cw {

class CoactivationGram {
 public:
  explicit CoactivationGram(int64_t n_features);

  // One probe row: the n latents active at any of its T snapshots, ascending,
  // and their activations values[a * T + θ] (0 where the gate is shut).
  void add_row(const int64_t* features, const float* values, int64_t n, int64_t T);

  struct Merge {
    int64_t keep = 0;
    int64_t absorb = 0;
    double ratio = 0;  // f_absorb ≈ ratio · f_keep (least squares)
  };
  // Pairs whose activations are collinear to within `max_unexplained`: the
  // share of f_absorb's energy that ratio · f_keep leaves, 1 − cos² of the
  // two activation vectors over (row, snapshot). Most collinear first; a
  // latent is absorbed at most once and an absorbed one keeps nothing, so
  // a group of k duplicates folds into one in one call. The latent with
  // more activation energy is kept.
  std::vector<Merge> redundant(double max_unexplained) const;

 private:
  int64_t n_features_;
  std::vector<double> self_;                    // Σ f_i²
  std::unordered_map<uint64_t, double> cross_;  // key i · F + j, i < j: Σ f_i f_j
};

}  // namespace cw

#endif  // CW_CROSSCODER_COACTIVATION_H_
