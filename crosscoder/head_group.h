// The ranks that share one crosscoder's heads (head-parallel training, as
// the reference implementation shards snapshots over a device mesh). Each
// rank holds a contiguous block of heads — their W_E^θ, W_D^θ, b_E^θ, b_D^θ
// and that block of every batch — and a replica of log τ. A training step
// then needs the ranks only to sum a few tensors: the pre-activation
// h = Σ_θ W_E^θ x^θ + b_E^θ and ∂L/∂h ([B, F] each), and per-feature and
// scalar sums (docs/SCALE_OUT.md). Private header (includes torch).
#ifndef CW_CROSSCODER_HEAD_GROUP_H_
#define CW_CROSSCODER_HEAD_GROUP_H_

#include <torch/types.h>

#include <cstdint>

namespace cw {

class HeadGroup {
 public:
  virtual ~HeadGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces `t` (contiguous, on every rank the same shape and type) by its
  // sum over the ranks. Blocks until every rank has contributed; throws
  // std::runtime_error when a rank is gone or the group timed out.
  virtual void sum(torch::Tensor& t) = 0;
  // Bytes this rank has contributed to sums so far: what the scaling model
  // in docs/SCALE_OUT.md counts.
  virtual int64_t bytes_summed() const = 0;
};

}  // namespace cw

#endif  // CW_CROSSCODER_HEAD_GROUP_H_
