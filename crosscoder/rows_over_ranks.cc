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

ScatteredRows::ScatteredRows(const ProbeRows& all, MessageGroup& group,
                             std::vector<std::pair<int64_t, int64_t>> blocks)
    : all_(all), group_(group), blocks_(std::move(blocks)) {
  if (int(blocks_.size()) != group_.world_size())
    throw std::invalid_argument("crosscoder: one block of heads per rank");
}

torch::Tensor ScatteredRows::batch(const std::vector<int64_t>& idx) const {
  const torch::Tensor rows = all_.batch(idx);  // [B, T, d]
  for (int r = 1; r < group_.world_size(); ++r) {
    const auto [begin, end] = blocks_[size_t(r)];
    const torch::Tensor part = rows.narrow(1, begin, end - begin).contiguous();
    group_.send(std::string(reinterpret_cast<const char*>(part.data_ptr<float>()), size_t(part.numel()) * sizeof(float)),
                r);
  }
  const auto [begin, end] = blocks_[0];
  return rows.narrow(1, begin, end - begin).contiguous();
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
