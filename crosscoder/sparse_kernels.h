// The raw-pointer loops of the sparse training step (sparse_step in
// training_step.cc). Each pass over a [B, F] array (gate, window rectangle,
// ∂L/∂f terms, the τ reduction) is one fused loop, so a step
// materialises no [B, F] temporary beyond h and one GEMM output, and no
// [B, T, F] one at all. Torch-free (compiled at -O3 in seconds); each function
// covers a range of rows or features so the caller can split it across
// threads. S is float or double; reductions over the batch accumulate in double.
//
// Notation as in docs/CROSSCODER.md: h [B, F] the shared pre-activation, for
// one head n_i = ‖W_D,i‖, u = h n, gate a = 1[u > τ], f = h a,
// s = tanh(c f n), window r = 1[|u − τ| < ε/2 and u > 0].
#ifndef CW_CROSSCODER_SPARSE_KERNELS_H_
#define CW_CROSSCODER_SPARSE_KERNELS_H_

#include <cstdint>
#include <vector>

namespace cw {
namespace kernels {

// One head's active pairs (h_bi n_i > τ_i), CSR by row.
template <typename S>
struct ActiveSet {
  std::vector<int64_t> row_begin{0};  // rows + 1 offsets
  std::vector<int32_t> feat;
  std::vector<S> f;  // h at the pair
  std::vector<S> s;  // its tanh score (decode_rows fills it)
};

// Appends rows [r0, r1) of every head's active pairs to heads[t], t < T,
// with norms [T, F] (one pass over h for all heads).
template <typename S>
void find_active(const S* h, const S* norms, const S* tau, int64_t T, int64_t F, int64_t r0, int64_t r1,
                 ActiveSet<S>* heads);

// Appends src's rows to *dst.
template <typename S>
void append_rows(const ActiveSet<S>& src, ActiveSet<S>* dst);

// For rows [r0, r1): the active pairs' scores s = tanh(c f n) into a->s, and
// the reconstruction error x̂ − x = b_D + Σ f W_D,i − x into err [B, d].
// x row b is at x + b·x_stride.
template <typename S>
void decode_rows(const S* w_dec, const S* b_dec, const S* x, int64_t x_stride, const S* n, S tanh_scale, int64_t d,
                 int64_t r0, int64_t r1, ActiveSet<S>* a, S* err);

// A block of features [f0, f1) of ∂L/∂f's GEMM part G, computed block by
// block so it is consumed from cache: G(b, i) = g[b·ld + i − f0].
template <typename S>
struct GBlock {
  S* g;
  int64_t ld, f0, f1;
  S& at(int64_t b, int64_t i) const { return g[b * ld + (i - f0)]; }
};

// Each row's active entries inside the current feature block: [begin[b], end[b]).
struct BlockEntries {
  std::vector<int64_t> begin, end;
};

// Moves *e on to the block ending at feature f1 (blocks visited in order;
// a default BlockEntries starts at feature 0).
template <typename S>
void next_block(const ActiveSet<S>& a, int64_t f1, BlockEntries* e);

// ∂L/∂f on the whole grid is G + k_i, with G the mse part (one GEMM) and
// k_i = c n_i ∂L/∂s_i the sparsity part at s = 0; this adds the active pairs'
// −k_i s² into the block of G.
template <typename S>
void fold_active_scores(const ActiveSet<S>& a, const BlockEntries& e, const S* k, const GBlock<S>& G);

// The threshold's window terms for features [f0, f1) of G's block, the
// reference's straight-through estimator: over the pairs inside the window
// with u = h n > 0, tau_acc_i += Σ_b (G + k) / (ε n_i), so that
// ∂L/∂τ_i = −τ_i · tau_acc_i summed over heads. Nothing reaches n or h.
template <typename S>
void window_terms(const S* h, const GBlock<S>& G, const S* n, const S* tau, const S* k, S window, int64_t B,
                  int64_t F, int64_t f0, int64_t f1, double* tau_acc);

// Entries (feature, row, value) of the encoder's ∂L/∂h, all heads together.
template <typename S>
struct SparseGrad {
  std::vector<int32_t> feat, row;
  std::vector<S> val;
};

// Per active pair of the block: ∂L/∂h = G + k (the gate is open) appended to *dh, and the
// score's direct ‖W_D‖ term c ∂L/∂s f (1 − s²) added to norm_acc.
template <typename S>
void active_backward(const ActiveSet<S>& a, const BlockEntries& e, const GBlock<S>& G, const S* k, const S* dscore,
                     S tanh_scale, SparseGrad<S>* dh, double* norm_acc);

// Decoder rows [f0, f1): gw_i = (∂L/∂n_i / n_i) W_D,i (the norm's gradient).
template <typename S>
void decoder_norm_grad(const S* w_dec, const double* norm_grad, const S* n, int64_t d, int64_t f0, int64_t f1,
                       S* gw);

// Decoder's mse term: gw_i += f ∂L/∂x̂_b over the active pairs (b, i).
template <typename S>
void scatter_decoder_grad(const ActiveSet<S>& a, const S* ge, int64_t d, S* gw);

// dh bucketed by feature, rows ascending, the heads' entries for the same
// (row, feature) summed: the encoder's gradient then costs one K-long axpy
// per distinct pair, not one per head (with T heads that is up to T× less).
template <typename S>
struct FeatureBuckets {
  std::vector<int64_t> begin;  // F + 1 offsets
  std::vector<int32_t> row;
  std::vector<S> val;
};
template <typename S>
FeatureBuckets<S> bucket_by_feature(const SparseGrad<S>& dh, int64_t F, int64_t B);

// Encoder rows [f0, f1): gw_enc_i = Σ dh_bi x_cat_b ([F, K], written whole,
// zero for features without entries) and db_i = Σ_b dh_bi.
template <typename S>
void encoder_grad(const FeatureBuckets<S>& dh, const S* x_cat, int64_t K, int64_t f0, int64_t f1, S* gw_enc, S* db);

}  // namespace kernels
}  // namespace cw

#endif  // CW_CROSSCODER_SPARSE_KERNELS_H_
