#include "crosscoder/rows_over_ranks.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace cw {
namespace {

[[noreturn]] void not_a_batch() {
  throw std::logic_error("crosscoder: a head block on trainer ranks has training batches only");
}

}  // namespace

torch::Tensor BatchOnlyRows::range(int64_t, int64_t) const { not_a_batch(); }
torch::Tensor BatchOnlyRows::snapshot_rows(int64_t, const torch::Tensor&) const { not_a_batch(); }
torch::Tensor BatchOnlyRows::snapshot_range(int64_t, int64_t, int64_t) const { not_a_batch(); }
int64_t BatchOnlyRows::chunk_rows(int64_t, int64_t) const { not_a_batch(); }
std::unique_ptr<ProbeRows> BatchOnlyRows::on(torch::Device) const { not_a_batch(); }

HeadRange::HeadRange(const RowSource& all, int64_t begin, int64_t end) : all_(all), begin_(begin), end_(end) {
  if (begin < 0 || end < begin || end > all.n_snapshots())
    throw std::invalid_argument("crosscoder: heads [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") of a row source of " + std::to_string(all.n_snapshots()));
}

int64_t HeadRange::at(int64_t snapshot) const {
  if (snapshot < 0 || snapshot >= n_snapshots())
    throw std::out_of_range("crosscoder: no snapshot " + std::to_string(snapshot) + " in a range of " +
                            std::to_string(n_snapshots()));
  return begin_ + snapshot;
}

void HeadRange::read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const {
  all_.read_rows(at(snapshot), rows, count, out);
}

void HeadRange::read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const {
  all_.read_range(at(snapshot), begin, end, out);
}

std::string HeadRange::file_of(int64_t snapshot) const { return all_.file_of(at(snapshot)); }

ScatteredRows::ScatteredRows(const RowSource& all, const std::vector<double>& scales, bool per_row,
                             MessageGroup& group, const std::vector<std::pair<int64_t, int64_t>>& blocks,
                             const std::vector<bool>& sent)
    : group_(group) {
  const size_t world = size_t(group_.world_size());
  if (blocks.size() != world || sent.size() != world)
    throw std::invalid_argument("crosscoder: one block of heads per rank");
  for (const auto& [begin, end] : blocks) scales_.emplace_back(scales.begin() + begin, scales.begin() + end);
  for (size_t r = 0; r < world; ++r) {
    if (r > 0 && !sent[r]) {
      rows_.emplace_back();
      continue;
    }
    auto heads = std::make_shared<HeadRange>(all, blocks[r].first, blocks[r].second);
    rows_.push_back(std::make_unique<StreamedRows>(std::move(heads), &scales_[r], per_row));
  }
}

torch::Tensor ScatteredRows::batch(const std::vector<int64_t>& idx) const {
  for (int r = 1; r < group_.world_size(); ++r) {
    if (!rows_[size_t(r)]) continue;
    const torch::Tensor part = rows_[size_t(r)]->batch(idx);  // [B, heads_r, d]
    const size_t bytes = size_t(part.numel()) * sizeof(float);
    group_.send(std::string(reinterpret_cast<const char*>(part.data_ptr<float>()), bytes), r);
    bytes_sent_ += int64_t(bytes);
  }
  return rows_[0]->batch(idx);
}

ReceivedRows::ReceivedRows(MessageGroup& group, int64_t heads, int64_t d_model)
    : group_(group), heads_(heads), d_model_(d_model) {}

torch::Tensor ReceivedRows::batch(const std::vector<int64_t>& idx) const {
  const std::string bytes = group_.receive(0);
  const int64_t n = int64_t(idx.size());
  if (bytes.size() != size_t(n * heads_ * d_model_) * sizeof(float))
    throw std::runtime_error("trainer ranks: a batch of " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(n) + " rows of " + std::to_string(heads_) + " heads of " +
                             std::to_string(d_model_) + " floats");
  auto out = torch::empty({n, heads_, d_model_}, torch::kFloat32);
  std::memcpy(out.data_ptr<float>(), bytes.data(), bytes.size());
  return out;
}

}  // namespace cw
