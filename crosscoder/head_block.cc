// Crosscoder::head_block, put_head_block and train_in_group: a crosscoder's
// heads split over the ranks of a head group (docs/SCALE_OUT.md).
#include <stdexcept>
#include <string>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"

namespace cw {
namespace {

// Heads [begin, begin + n) of parameters (or moments) shaped as p, with
// log τ whole: w_enc [F, T·d] by columns, the others by their first axis.
CrosscoderParams heads_of(const CrosscoderParams& p, int64_t begin, int64_t n, int64_t d) {
  return {p.w_enc.narrow(1, begin * d, n * d).clone(), p.w_dec.narrow(0, begin, n).clone(),
          p.b_enc.narrow(0, begin, n).clone(), p.b_dec.narrow(0, begin, n).clone(), p.log_tau.clone()};
}

void put_heads(const CrosscoderParams& block, int64_t begin, int64_t d, CrosscoderParams* p) {
  const int64_t n = block.w_dec.size(0);
  p->w_enc.narrow(1, begin * d, n * d).copy_(block.w_enc);
  p->w_dec.narrow(0, begin, n).copy_(block.w_dec);
  p->b_enc.narrow(0, begin, n).copy_(block.b_enc);
  p->b_dec.narrow(0, begin, n).copy_(block.b_dec);
  p->log_tau.copy_(block.log_tau);
}

}  // namespace

Crosscoder Crosscoder::head_block(int64_t begin, int64_t end) const {
  const Impl& m = *impl_;
  if (begin < 0 || end <= begin || end > m.n_snap())
    throw std::invalid_argument("head_block: heads [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") are not within the crosscoder's " + std::to_string(m.n_snap()));
  const int64_t n = end - begin, d = m.options.d_model;
  Crosscoder out(m.options);
  Impl* block = out.impl_.get();
  block->steps.assign(m.steps.begin() + begin, m.steps.begin() + end);
  block->scales.assign(m.scales.begin() + begin, m.scales.begin() + end);
  // Streamed: no rows here; the block's batches come from rank 0
  // (crosscoder/rows_over_ranks.h).
  if (!m.streamed)
    block->memory.snapshots.assign(m.memory.snapshots.begin() + begin, m.memory.snapshots.begin() + end);
  block->n_tokens = m.n_tokens;
  block->params = heads_of(m.params, begin, n, d);
  block->adam.m = heads_of(m.adam.m, begin, n, d);
  block->adam.v = heads_of(m.adam.v, begin, n, d);
  block->adam.latent_steps = m.adam.latent_steps.narrow(0, begin, n).clone();
  block->adam.head_steps = m.adam.head_steps.narrow(0, begin, n).clone();
  block->adam.threshold_steps = m.adam.threshold_steps.clone();
  block->cumulative_steps = m.cumulative_steps;
  block->lambda_horizon = m.lambda_horizon;
  block->updates = m.updates;
  block->steps_since_update = m.steps_since_update;
  block->rng = m.rng;  // every rank samples the same rows
  block->measured_heads = n;
  return out;
}

void Crosscoder::put_head_block(const Crosscoder& block, int64_t begin) {
  Impl& m = *impl_;
  const Impl& b = *block.impl_;
  const int64_t n = b.n_snap(), d = m.options.d_model;
  if (begin < 0 || n == 0 || begin + n > m.n_snap() || b.options.d_model != d ||
      b.options.n_features != m.options.n_features)
    throw std::invalid_argument("put_head_block: a block of " + std::to_string(n) + " heads (d_model " +
                                std::to_string(b.options.d_model) + ", " + std::to_string(b.options.n_features) +
                                " features) does not fit at head " + std::to_string(begin) + " of " +
                                std::to_string(m.n_snap()));
  put_heads(b.params, begin, d, &m.params);
  put_heads(b.adam.m, begin, d, &m.adam.m);
  put_heads(b.adam.v, begin, d, &m.adam.v);
  m.adam.latent_steps.narrow(0, begin, n).copy_(b.adam.latent_steps);
  m.adam.head_steps.narrow(0, begin, n).copy_(b.adam.head_steps);
  m.adam.threshold_steps.copy_(b.adam.threshold_steps);
  m.cumulative_steps = b.cumulative_steps;
  m.lambda_horizon = b.lambda_horizon;
  m.steps_since_update = b.steps_since_update;
  m.rng = b.rng;
}

void Crosscoder::train_in_group(HeadGroup* group) { impl_->group = group; }

}  // namespace cw
