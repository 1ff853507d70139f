#include "crosscoder/sparse_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cw {
namespace kernels {

namespace {

// Features per block of window_terms: its accumulator (8 KB) stays in L1.
constexpr int64_t kWindowBlock = 1024;

// The vectorised loops are built for AVX-512 and AVX2 too, picked at load
// time by the CPU (the build itself targets baseline x86-64). No -ffast-math:
// each clone computes the same sums in the same order.
#if defined(__x86_64__) && defined(__GNUC__)
#define CW_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CW_SIMD_CLONES
#endif

// open[i] = 1[h_i n_i > τ_i] for one row: a plain loop GCC vectorises.
template <typename S>
CW_SIMD_CLONES
void gate_row(const S* hb, const S* n, const S* tau, int64_t F, uint8_t* open) {
  for (int64_t i = 0; i < F; ++i) open[i] = hb[i] * n[i] > tau[i];
}

}  // namespace

template <typename S>
void find_active(const S* h, const S* norms, const S* tau, int64_t T, int64_t F, int64_t r0, int64_t r1,
                 ActiveSet<S>* heads) {
  // At L0 ≈ 30 of thousands nearly every 8-feature word of the mask is zero:
  // test a word at a time. The tail past F stays 0.
  std::vector<uint8_t> open((F + 7) / 8 * 8, 0);
  for (int64_t b = r0; b < r1; ++b) {
    const S* hb = h + b * F;  // read from cache by every head but the first
    for (int64_t t = 0; t < T; ++t) {
      ActiveSet<S>* a = &heads[t];
      gate_row(hb, norms + t * F, tau, F, open.data());
      for (int64_t i0 = 0; i0 < F; i0 += 8) {
        uint64_t word;
        std::memcpy(&word, &open[i0], sizeof word);
        if (!word) continue;
        for (int64_t i = i0; i < std::min(F, i0 + 8); ++i)
          if (open[i]) {
            a->feat.push_back(static_cast<int32_t>(i));
            a->f.push_back(hb[i]);
          }
      }
      a->row_begin.push_back(static_cast<int64_t>(a->feat.size()));
    }
  }
}

template <typename S>
void append_rows(const ActiveSet<S>& src, ActiveSet<S>* dst) {
  const int64_t base = dst->row_begin.back();
  for (size_t r = 1; r < src.row_begin.size(); ++r) dst->row_begin.push_back(base + src.row_begin[r]);
  dst->feat.insert(dst->feat.end(), src.feat.begin(), src.feat.end());
  dst->f.insert(dst->f.end(), src.f.begin(), src.f.end());
  dst->s.insert(dst->s.end(), src.s.begin(), src.s.end());
}

template <typename S>
CW_SIMD_CLONES
void decode_rows(const S* w_dec, const S* b_dec, const S* x, int64_t x_stride, const S* n, S tanh_scale, int64_t d,
                 int64_t r0, int64_t r1, ActiveSet<S>* a, S* err) {
  for (int64_t b = r0; b < r1; ++b) {
    S* e = err + b * d;
    std::copy(b_dec, b_dec + d, e);
    for (int64_t j = a->row_begin[b]; j < a->row_begin[b + 1]; ++j) {
      const int64_t i = a->feat[j];
      const S fv = a->f[j];
      a->s[j] = std::tanh(tanh_scale * fv * n[i]);
      const S* w = w_dec + i * d;
      for (int64_t q = 0; q < d; ++q) e[q] += w[q] * fv;
    }
    const S* xb = x + b * x_stride;
    for (int64_t q = 0; q < d; ++q) e[q] -= xb[q];
  }
}

template <typename S>
void next_block(const ActiveSet<S>& a, int64_t f1, BlockEntries* e) {
  const size_t rows = a.row_begin.size() - 1;
  if (e->end.empty()) e->end.assign(a.row_begin.begin(), a.row_begin.end() - 1);
  e->begin = e->end;
  for (size_t b = 0; b < rows; ++b) {
    int64_t j = e->end[b];
    while (j < a.row_begin[b + 1] && a.feat[j] < f1) ++j;
    e->end[b] = j;
  }
}

template <typename S>
void fold_active_scores(const ActiveSet<S>& a, const BlockEntries& e, const S* k, const GBlock<S>& G) {
  for (size_t b = 0; b < e.begin.size(); ++b)
    for (int64_t j = e.begin[b]; j < e.end[b]; ++j) {
      const int64_t i = a.feat[j];
      G.at(b, i) -= k[i] * (a.s[j] * a.s[j]);
    }
}

template <typename S>
CW_SIMD_CLONES
void window_terms(const S* h, const GBlock<S>& G, const S* n, const S* tau, const S* k, S window, int64_t B,
                  int64_t F, int64_t f0, int64_t f1, double* tau_acc) {
  const S half = window / 2;
  double sum_g[kWindowBlock];  // Σ_b of ∂L/∂f over the window: 1/(ε n) once per feature
  for (int64_t lo = f0; lo < f1; lo += kWindowBlock) {
    const int64_t m = std::min(f1, lo + kWindowBlock) - lo;
    std::fill(sum_g, sum_g + m, 0.0);
    const S* nb = n + lo;
    const S* tb = tau + lo;
    const S* kb = k + lo;
    for (int64_t b = 0; b < B; ++b) {
      const S* hb = h + b * F + lo;
      const S* gb = G.g + b * G.ld + (lo - G.f0);
      for (int64_t j = 0; j < m; ++j) {
        // Branch-free (a multiply by the 0/1 rectangle) so GCC vectorises it.
        const S u = hb[j] * nb[j];
        const S r = (std::abs(u - tb[j]) < half) & (u > S(0)) ? S(1) : S(0);
        sum_g[j] += (gb[j] + kb[j]) * r;
      }
    }
    // u > 0 somewhere implies n > 0; a zero row added nothing.
    for (int64_t j = 0; j < m; ++j)
      if (nb[j] > 0) tau_acc[lo + j] += sum_g[j] / (window * nb[j]);
  }
}

template <typename S>
void active_backward(const ActiveSet<S>& a, const BlockEntries& e, const GBlock<S>& G, const S* k, const S* dscore,
                     S tanh_scale, SparseGrad<S>* dh, double* norm_acc) {
  for (size_t b = 0; b < e.begin.size(); ++b)
    for (int64_t j = e.begin[b]; j < e.end[b]; ++j) {
      const int64_t i = a.feat[j];
      dh->feat.push_back(a.feat[j]);
      dh->row.push_back(static_cast<int32_t>(b));
      dh->val.push_back(G.at(b, i) + k[i]);
      norm_acc[i] += tanh_scale * dscore[i] * a.f[j] * (1 - a.s[j] * a.s[j]);
    }
}

template <typename S>
CW_SIMD_CLONES
void decoder_norm_grad(const S* w_dec, const double* norm_grad, const S* n, int64_t d, int64_t f0, int64_t f1,
                       S* gw) {
  for (int64_t i = f0; i < f1; ++i) {
    const S scale = static_cast<S>(norm_grad[i]) / std::max(n[i], S(1e-12));
    const S* w = w_dec + i * d;
    S* g = gw + i * d;
    for (int64_t q = 0; q < d; ++q) g[q] = scale * w[q];
  }
}

template <typename S>
CW_SIMD_CLONES
void scatter_decoder_grad(const ActiveSet<S>& a, const S* ge, int64_t d, S* gw) {
  const int64_t rows = static_cast<int64_t>(a.row_begin.size()) - 1;
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t j = a.row_begin[b]; j < a.row_begin[b + 1]; ++j) {
      const S fv = a.f[j];
      const S* e = ge + b * d;
      S* g = gw + static_cast<int64_t>(a.feat[j]) * d;
      for (int64_t q = 0; q < d; ++q) g[q] += e[q] * fv;
    }
}

namespace {

// The permutation `order` stably sorted by key[order[e]] ∈ [0, n_keys).
std::vector<int64_t> counting_sort(const std::vector<int32_t>& key, int64_t n_keys, const std::vector<int64_t>& order) {
  std::vector<int64_t> next(n_keys + 1, 0);
  for (int64_t e : order) ++next[key[e] + 1];
  for (int64_t k = 0; k < n_keys; ++k) next[k + 1] += next[k];
  std::vector<int64_t> out(order.size());
  for (int64_t e : order) out[next[key[e]]++] = e;
  return out;
}

}  // namespace

template <typename S>
FeatureBuckets<S> bucket_by_feature(const SparseGrad<S>& dh, int64_t F, int64_t B) {
  // Radix sort by (feature, row), then sum runs of the same pair.
  std::vector<int64_t> order(dh.feat.size());
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int64_t>(e);
  order = counting_sort(dh.feat, F, counting_sort(dh.row, B, order));
  FeatureBuckets<S> out;
  out.begin.assign(F + 1, 0);
  int64_t last_feat = -1, last_row = -1;
  for (int64_t e : order) {
    if (dh.feat[e] == last_feat && dh.row[e] == last_row) {
      out.val.back() += dh.val[e];
      continue;
    }
    last_feat = dh.feat[e];
    last_row = dh.row[e];
    ++out.begin[last_feat + 1];
    out.row.push_back(dh.row[e]);
    out.val.push_back(dh.val[e]);
  }
  for (int64_t i = 0; i < F; ++i) out.begin[i + 1] += out.begin[i];
  return out;
}

template <typename S>
CW_SIMD_CLONES
void encoder_grad(const FeatureBuckets<S>& dh, const S* x_cat, int64_t K, int64_t f0, int64_t f1, S* gw_enc, S* db) {
  for (int64_t i = f0; i < f1; ++i) {
    S* g = gw_enc + i * K;
    std::fill(g, g + K, S(0));
    S bias = 0;
    for (int64_t e = dh.begin[i]; e < dh.begin[i + 1]; ++e) {
      const S v = dh.val[e];
      const S* xb = x_cat + static_cast<int64_t>(dh.row[e]) * K;
      for (int64_t q = 0; q < K; ++q) g[q] += v * xb[q];
      bias += v;
    }
    db[i] = bias;
  }
}

#define CW_INSTANTIATE(S)                                                                                        \
  template void find_active(const S*, const S*, const S*, int64_t, int64_t, int64_t, int64_t, ActiveSet<S>*);    \
  template void append_rows(const ActiveSet<S>&, ActiveSet<S>*);                                                 \
  template void decode_rows(const S*, const S*, const S*, int64_t, const S*, S, int64_t, int64_t, int64_t,      \
                            ActiveSet<S>*, S*);                                                                  \
  template void next_block(const ActiveSet<S>&, int64_t, BlockEntries*);                                         \
  template void fold_active_scores(const ActiveSet<S>&, const BlockEntries&, const S*, const GBlock<S>&);        \
  template void window_terms(const S*, const GBlock<S>&, const S*, const S*, const S*, S, int64_t, int64_t,     \
                             int64_t, int64_t, double*);                                                         \
  template void active_backward(const ActiveSet<S>&, const BlockEntries&, const GBlock<S>&, const S*, const S*,  \
                                S, SparseGrad<S>*, double*);                                                     \
  template void decoder_norm_grad(const S*, const double*, const S*, int64_t, int64_t, int64_t, S*);             \
  template void scatter_decoder_grad(const ActiveSet<S>&, const S*, int64_t, S*);                                \
  template FeatureBuckets<S> bucket_by_feature(const SparseGrad<S>&, int64_t, int64_t);                          \
  template void encoder_grad(const FeatureBuckets<S>&, const S*, int64_t, int64_t, int64_t, S*, S*);

CW_INSTANTIATE(float)
CW_INSTANTIATE(double)

#undef CW_INSTANTIATE

}  // namespace kernels
}  // namespace cw
