// A streamed crosscoder's training batches spread over trainer ranks
// (crosscoder/trainer_ranks.h). No rank should hold every snapshot; every
// rank draws the same rows each step (the RNG is replicated). A rank that
// can open its heads' row files (on the daemon's machine) reads its rows
// there itself; for one that cannot (another machine), rank 0 reads its
// heads' rows and sends them: B × heads × d floats a step, against the
// [B, F] sums the step makes anyway (docs/SCALE_OUT.md "Streamed
// crosscoders on ranks"). Only training batches travel: a block trains,
// nothing else reads its rows. Private (torch).
#ifndef CW_CROSSCODER_ROWS_OVER_RANKS_H_
#define CW_CROSSCODER_ROWS_OVER_RANKS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crosscoder/gloo_head_group.h"
#include "crosscoder/probe_rows.h"
#include "crosscoder/row_source.h"

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

// Snapshots [begin, end) of another source, as snapshots 0 … end − begin.
class HeadRange : public RowSource {
 public:
  // Throws std::invalid_argument unless [begin, end) is within `all`.
  HeadRange(const RowSource& all, int64_t begin, int64_t end);
  int64_t n_snapshots() const override { return end_ - begin_; }
  int64_t n_tokens() const override { return all_.n_tokens(); }
  int64_t d_model() const override { return all_.d_model(); }
  void read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const override;
  void read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const override;
  std::string file_of(int64_t snapshot) const override;

 private:
  int64_t at(int64_t snapshot) const;

  const RowSource& all_;
  int64_t begin_, end_;
};

// Rank 0: batch(idx) reads rows idx of its own heads (blocks[0]) from `all`
// (the whole crosscoder's rows, normalised by `scales` as StreamedRows
// does), and of each rank r with sent[r] (one that cannot open the row
// files of its heads), sends rank r its heads' part and returns rank 0's.
// A rank that reads its own rows is sent nothing. Throws
// std::runtime_error when a rank is gone.
class ScatteredRows : public BatchOnlyRows {
 public:
  ScatteredRows(const RowSource& all, const std::vector<double>& scales, bool per_row, MessageGroup& group,
                const std::vector<std::pair<int64_t, int64_t>>& blocks, const std::vector<bool>& sent);
  torch::Tensor batch(const std::vector<int64_t>& idx) const override;
  // Bytes of rows sent to ranks so far.
  int64_t bytes_sent() const { return bytes_sent_; }

 private:
  MessageGroup& group_;
  std::vector<std::vector<double>> scales_;          // per rank, its heads' (rows_ point into them)
  std::vector<std::unique_ptr<StreamedRows>> rows_;  // per rank; null for a rank that reads its own
  mutable int64_t bytes_sent_ = 0;
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
