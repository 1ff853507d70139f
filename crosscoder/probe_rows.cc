// InMemoryRows: every snapshot's normalised activations held as tensors.
#include <cmath>
#include <stdexcept>

#include "crosscoder/probe_rows.h"

namespace cw {

torch::Tensor row_factors(const torch::Tensor& raw, double scale, bool per_row) {
  if (!per_row) return torch::scalar_tensor(scale, torch::kFloat64);
  // clamp: an all-zero row (0 × huge) stays zero rather than NaN.
  return std::sqrt(static_cast<double>(raw.size(1))) / raw.norm(2, {1}, true).clamp_min(1e-30);
}

torch::Tensor normalised_rows(const torch::Tensor& raw, double scale, bool per_row) {
  // The snapshot's scale as a double scalar (not a tensor): the one float
  // multiply InMemoryRows and StreamedRows have always agreed on bit for bit.
  if (!per_row) return raw * scale;
  return raw * row_factors(raw, scale, per_row);
}

const torch::Tensor& InMemoryRows::at(int64_t t) const {
  const auto& a = snapshots.at(static_cast<size_t>(t));
  if (!a.defined()) throw std::logic_error("crosscoder: restore_activations() for every snapshot first");
  return a;
}

torch::Tensor InMemoryRows::batch(const std::vector<int64_t>& idx) const {
  const auto device = snapshots.front().defined() ? snapshots.front().device() : torch::Device(torch::kCPU);
  const auto rows = torch::tensor(idx, torch::kInt64).to(device);
  std::vector<torch::Tensor> per_head;
  for (size_t t = 0; t < snapshots.size(); ++t) per_head.push_back(at(int64_t(t)).index_select(0, rows));
  return torch::stack(per_head, 1);
}

torch::Tensor InMemoryRows::range(int64_t begin, int64_t end) const {
  std::vector<torch::Tensor> per_head;
  for (size_t t = 0; t < snapshots.size(); ++t) per_head.push_back(at(int64_t(t)).slice(0, begin, end));
  return torch::stack(per_head, 1);
}

torch::Tensor InMemoryRows::snapshot_rows(int64_t t, const torch::Tensor& idx) const {
  return at(t).index_select(0, idx);
}

torch::Tensor InMemoryRows::snapshot_range(int64_t t, int64_t begin, int64_t end) const {
  return at(t).slice(0, begin, end);
}

int64_t InMemoryRows::chunk_rows(int64_t T, int64_t width) const {
  return std::max<int64_t>(1, kChunkFloats / (T * width));
}

std::unique_ptr<ProbeRows> InMemoryRows::on(torch::Device device) const {
  auto copy = std::make_unique<InMemoryRows>();
  for (size_t t = 0; t < snapshots.size(); ++t) copy->snapshots.push_back(at(int64_t(t)).to(device));
  return copy;
}

}  // namespace cw
