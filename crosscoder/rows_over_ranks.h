// A streamed crosscoder's training batches spread over trainer ranks
// (crosscoder/trainer_ranks.h): no rank but the daemon can read the store,
// and no rank should hold every snapshot, so rank 0 reads each step's rows
// of every head (the rows every rank drew alike: the RNG is replicated) and
// sends each rank its block of heads' part. Per step that is B × heads × d
// floats in all, against the [B, F] sums the step makes anyway
// (docs/SCALE_OUT.md "Streamed crosscoders on ranks"). Only training batches
// travel: a block trains, nothing else reads its rows. Private (torch).
#ifndef CW_CROSSCODER_ROWS_OVER_RANKS_H_
#define CW_CROSSCODER_ROWS_OVER_RANKS_H_

#include <memory>
#include <utility>
#include <vector>

#include "crosscoder/gloo_head_group.h"
#include "crosscoder/probe_rows.h"

namespace cw {

// Rows a block trains from, where only batch() is asked. The rest throws
// std::logic_error: it is a bug for anything else to read them.
class BatchOnlyRows : public ProbeRows {
 public:
  bool streamed() const override { return true; }
  torch::Tensor range(int64_t begin, int64_t end) const override;
  torch::Tensor snapshot_rows(int64_t t, const torch::Tensor& idx) const override;
  torch::Tensor snapshot_range(int64_t t, int64_t begin, int64_t end) const override;
  int64_t chunk_rows(int64_t T, int64_t width) const override;
  std::unique_ptr<ProbeRows> on(torch::Device device) const override;
};

// Rank 0: batch(idx) reads rows idx of every head from `all` (the whole
// crosscoder's streamed rows), sends rank r heads blocks[r] of them, and
// returns heads blocks[0]. Throws std::runtime_error when a rank is gone.
class ScatteredRows : public BatchOnlyRows {
 public:
  ScatteredRows(const ProbeRows& all, MessageGroup& group, std::vector<std::pair<int64_t, int64_t>> blocks);
  torch::Tensor batch(const std::vector<int64_t>& idx) const override;

 private:
  const ProbeRows& all_;
  MessageGroup& group_;
  std::vector<std::pair<int64_t, int64_t>> blocks_;  // [begin, end) of heads, per rank
};

// Rank r > 0: batch(idx) is what rank 0 sends, [idx.size(), heads, d_model].
class ReceivedRows : public BatchOnlyRows {
 public:
  ReceivedRows(MessageGroup& group, int64_t heads, int64_t d_model);
  torch::Tensor batch(const std::vector<int64_t>& idx) const override;

 private:
  MessageGroup& group_;
  int64_t heads_, d_model_;
};

}  // namespace cw

#endif  // CW_CROSSCODER_ROWS_OVER_RANKS_H_
