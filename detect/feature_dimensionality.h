// The feature-dimensionality rate of a dictionary (Elhage et al., "Toy
// Models of Superposition"): feature i's dimensionality is
//   D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²,
// the share of a dimension it has to itself (1 for a feature orthogonal to
// every other, 1/2 for each of an antipodal pair, 1/k for k features
// sharing one direction, ~0 for a weak feature inside a strong one's
// direction). The rate Σ_i D_i / d_model is how much of the space the
// dictionary uses, one feature per dimension being 1. The paper on
// pre-training watches it per snapshot: it compresses as features pile into
// superposition and expands at the transition.
#ifndef CW_DETECT_FEATURE_DIMENSIONALITY_H_
#define CW_DETECT_FEATURE_DIMENSIONALITY_H_

#include <cstdint>
#include <vector>

namespace cw {

// `decoder` is [n_features × d_model], row i = W_i (not normalised: a
// feature's norm is its weight). Zero rows are features with no direction
// and count 0. Throws std::invalid_argument on a size that does not match.
std::vector<double> feature_dimensionalities(const std::vector<float>& decoder, int64_t n_features, int64_t d_model);

// Σ_i D_i / d_model.
double feature_dimensionality_rate(const std::vector<float>& decoder, int64_t n_features, int64_t d_model);

}  // namespace cw

#endif  // CW_DETECT_FEATURE_DIMENSIONALITY_H_
