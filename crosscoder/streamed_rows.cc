// StreamedRows: the rows asked, read from a RowSource and normalised then;
// nothing is held between calls.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "crosscoder/probe_rows.h"

namespace cw {

StreamedRows::StreamedRows(std::shared_ptr<const RowSource> source, const std::vector<double>* scales, bool per_row,
                           torch::Device device)
    : source_(std::move(source)), scales_(scales), per_row_(per_row), device_(device) {
  if (!source_) throw std::invalid_argument("crosscoder: streaming needs a row source");
}

torch::Tensor StreamedRows::raw_range(int64_t t, int64_t begin, int64_t end) const {
  if (t >= source_->n_snapshots())
    throw std::logic_error("crosscoder: the row source has no snapshot " + std::to_string(t));
  auto raw = torch::empty({end - begin, source_->d_model()}, torch::kFloat32);
  source_->read_range(t, begin, end, raw.data_ptr<float>());
  return raw;
}

// As InMemoryRows holds them (the same normalised_rows, so the same bits).
torch::Tensor StreamedRows::snapshot_range(int64_t t, int64_t begin, int64_t end) const {
  return normalised_rows(raw_range(t, begin, end), (*scales_)[size_t(t)], per_row_);
}

torch::Tensor StreamedRows::snapshot_rows(int64_t t, const torch::Tensor& idx) const {
  if (t >= source_->n_snapshots())
    throw std::logic_error("crosscoder: the row source has no snapshot " + std::to_string(t));
  const auto rows = idx.to(torch::kCPU, torch::kInt64).contiguous();
  auto raw = torch::empty({rows.size(0), source_->d_model()}, torch::kFloat32);
  source_->read_rows(t, rows.data_ptr<int64_t>(), rows.size(0), raw.data_ptr<float>());
  return normalised_rows(raw, (*scales_)[size_t(t)], per_row_);
}

torch::Tensor StreamedRows::batch(const std::vector<int64_t>& idx) const {
  const auto rows = torch::tensor(idx, torch::kInt64);
  std::vector<torch::Tensor> per_head;
  for (int64_t t = 0; t < n_snap(); ++t) per_head.push_back(snapshot_rows(t, rows));
  auto out = torch::stack(per_head, 1);
  return device_.is_cpu() ? out : out.to(device_);
}

torch::Tensor StreamedRows::range(int64_t begin, int64_t end) const {
  std::vector<torch::Tensor> per_head;
  for (int64_t t = 0; t < n_snap(); ++t) per_head.push_back(snapshot_range(t, begin, end));
  return torch::stack(per_head, 1);
}

// The input chunk [rows, T, d] is bounded as well as the activations
// [rows, T, width]: with d above F it is the larger.
int64_t StreamedRows::chunk_rows(int64_t T, int64_t width) const {
  return std::max<int64_t>(1, kStreamedChunkFloats / (T * std::max(width, source_->d_model())));
}

std::unique_ptr<ProbeRows> StreamedRows::on(torch::Device device) const {
  return std::make_unique<StreamedRows>(source_, scales_, per_row_, device);
}

}  // namespace cw
