// Latents the others reconstruct: for a live latent j, over the probe rows
// where it fires at the newest head, the share of its decoded energy
// f_j² ‖W_D,j‖² that the other latents active on the row cannot take over
// when their activations are refitted (least squares): f_j² times the squared
// distance of W_D,j from the span of the others' decoder rows (1 / [G⁻¹]_jj
// for the row's Gram G of active decoder rows). A latent whose share is small
// decodes nothing the rest of its rows' latents could not: removing it costs
// little once training has moved the others' activations onto its rows, and
// frees it for recruitment. docs/CROSSCODER.md "Latents the others
// reconstruct" has the measurements behind it.
//
// Folding is sequential: the least energy first, each latent's share
// recomputed without the latents folded before it, so that two duplicates
// (each reconstructed by the other) lose one, not both. Torch-free.
#ifndef CW_CROSSCODER_REFIT_ABLATION_H_
#define CW_CROSSCODER_REFIT_ABLATION_H_

#include <cstdint>
#include <vector>

namespace cw {

class RefitAblation {
 public:
  // `decoder` is W_D of every head, [n_heads × n_features × d_model]
  // row-major; it must outlive the object.
  RefitAblation(const float* decoder, int64_t n_features, int64_t d_model);

  // One probe row at one head: the n latents active there (ascending) and
  // their activations.
  void add_row(int64_t head, const int64_t* features, const float* values, int64_t n);

  // Σ over rows of f_j² ‖W_D,j‖² (0 for a latent that never fired).
  double energy(int64_t feature) const { return energy_[feature]; }
  // The share described above with every latent present; 1 for a latent
  // that never fired.
  double unexplained(int64_t feature) const;

  // Latents to fold, ascending: least energy first, each taken while its
  // share without the ones taken before (and without those marked in
  // `gone`, already freed: [n_features] or empty) is below max_unexplained.
  std::vector<int64_t> foldable(double max_unexplained, std::vector<char> gone = {}) const;

 private:
  // Σ over the rows where `feature` fires of its energy the others (less
  // those marked in `gone`) cannot reconstruct, from the decoder as it is
  // now. A row none of whose latents is gone or `moved` keeps the distance
  // add_row() found for it.
  double missing(int64_t feature, const std::vector<char>& gone, const std::vector<char>& moved) const;
  // Latents whose decoder row changed since add_row() read it (a merge's
  // keeper: the caller may edit the decoder in between).
  std::vector<char> moved_rows() const;

  const float* decoder_;
  int64_t n_features_, d_model_;
  std::vector<double> energy_, missing_;
  // The rows as added: row r's latents are features_[begin_[r] … begin_[r+1]).
  std::vector<int64_t> begin_{0}, features_, head_;
  std::vector<float> values_;
  std::vector<double> distance_sq_;  // per entry, with every latent of its row present
  std::vector<float> row_read_;      // [n_features × d_model]: each latent's row as add_row() first read it
  std::vector<int64_t> read_at_;     // the head it was read at, −1 for none
  std::vector<std::vector<int64_t>> rows_of_;  // per latent, the rows it fires on
};

}  // namespace cw

#endif  // CW_CROSSCODER_REFIT_ABLATION_H_
