// The normalised probe rows training and analysis read (private, torch):
// held in memory (InMemoryRows: every snapshot's [N, d] tensor, as the
// crosscoder always did) or streamed (StreamedRows: read from a RowSource,
// crosscoder/row_source.h, for the rows asked and normalised then).
//
// Contract: both give the same bits for the same rows (normalised_rows:
// x_norm = x_raw · scale_t, one float multiply per element in either, or
// each row to norm √d), so a crosscoder
// trains the same trajectory from either. They differ in what they hold
// (in memory: every snapshot; streamed: nothing between calls) and in how
// many rows an analysis pass takes at once (chunk_rows: streamed bounds
// the [rows, T, d] input too, not only the [rows, T, F] activations).
#ifndef CW_CROSSCODER_PROBE_ROWS_H_
#define CW_CROSSCODER_PROBE_ROWS_H_

#include <torch/types.h>

#include <memory>
#include <vector>

#include "crosscoder/row_source.h"

namespace cw {

// What raw rows [N, d] are multiplied by to be in the crosscoder's units:
// the snapshot's scale, or, `per_row` (CrosscoderOptions::normalisation
// "token"), each row's own √d / ‖x‖ as [N, 1] (an all-zero row's factor is
// huge and the row stays zero).
torch::Tensor row_factors(const torch::Tensor& raw, double scale, bool per_row);
// raw × row_factors(raw, scale, per_row).
torch::Tensor normalised_rows(const torch::Tensor& raw, double scale, bool per_row);

class ProbeRows {
 public:
  virtual ~ProbeRows() = default;
  virtual bool streamed() const = 0;
  // [B, T, d]: row idx[b] at every snapshot (a training batch), on the
  // rows' device.
  virtual torch::Tensor batch(const std::vector<int64_t>& idx) const = 0;
  // [R, T, d]: rows [begin, end) at every snapshot.
  virtual torch::Tensor range(int64_t begin, int64_t end) const = 0;
  // [R, d]: rows `idx` (int64, CPU) of snapshot t.
  virtual torch::Tensor snapshot_rows(int64_t t, const torch::Tensor& idx) const = 0;
  // [R, d]: rows [begin, end) of snapshot t.
  virtual torch::Tensor snapshot_range(int64_t t, int64_t begin, int64_t end) const = 0;
  // Rows an analysis pass over T snapshots takes at once when its
  // activations are [rows, T, width].
  virtual int64_t chunk_rows(int64_t T, int64_t width) const = 0;
  // These rows with batches on `device` (a CUDA update trains from them).
  virtual std::unique_ptr<ProbeRows> on(torch::Device device) const = 0;
};

// Floats an analysis chunk's [rows, T, width] tensor holds at most: in
// memory, and streamed (smaller: a streamed crosscoder runs under a cap,
// and its chunks bound the [rows, T, d] input too, read and stacked per
// snapshot). analysis/training_footprint.cc counts them.
constexpr int64_t kChunkFloats = int64_t{1} << 22;
constexpr int64_t kStreamedChunkFloats = int64_t{1} << 20;

class InMemoryRows : public ProbeRows {
 public:
  // Per snapshot, normalised [N, d]; undefined until given back
  // (restore_activations after a load).
  std::vector<torch::Tensor> snapshots;

  bool streamed() const override { return false; }
  torch::Tensor batch(const std::vector<int64_t>& idx) const override;
  torch::Tensor range(int64_t begin, int64_t end) const override;
  torch::Tensor snapshot_rows(int64_t t, const torch::Tensor& idx) const override;
  torch::Tensor snapshot_range(int64_t t, int64_t begin, int64_t end) const override;
  int64_t chunk_rows(int64_t T, int64_t width) const override;
  std::unique_ptr<ProbeRows> on(torch::Device device) const override;

 private:
  const torch::Tensor& at(int64_t t) const;
};

class StreamedRows : public ProbeRows {
 public:
  // `scales` is the crosscoder's (one per snapshot it holds: the snapshots
  // read are scales->size(), not the source's, which may have more);
  // `per_row`: every row to norm √d instead (normalised_rows).
  StreamedRows(std::shared_ptr<const RowSource> source, const std::vector<double>* scales, bool per_row,
               torch::Device device = torch::kCPU);

  bool streamed() const override { return true; }
  torch::Tensor batch(const std::vector<int64_t>& idx) const override;
  torch::Tensor range(int64_t begin, int64_t end) const override;
  torch::Tensor snapshot_rows(int64_t t, const torch::Tensor& idx) const override;
  torch::Tensor snapshot_range(int64_t t, int64_t begin, int64_t end) const override;
  int64_t chunk_rows(int64_t T, int64_t width) const override;
  std::unique_ptr<ProbeRows> on(torch::Device device) const override;

  const RowSource& source() const { return *source_; }
  // Raw rows [begin, end) of snapshot t (the normalisation scale's fit).
  torch::Tensor raw_range(int64_t t, int64_t begin, int64_t end) const;

 private:
  int64_t n_snap() const { return static_cast<int64_t>(scales_->size()); }

  std::shared_ptr<const RowSource> source_;
  const std::vector<double>* scales_;
  bool per_row_;
  torch::Device device_;
};

}  // namespace cw

#endif  // CW_CROSSCODER_PROBE_ROWS_H_
