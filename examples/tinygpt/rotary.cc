#include "examples/tinygpt/rotary.h"

#include <stdexcept>

namespace cw {

Rotary::Rotary(int64_t context, int64_t head_dim) {
  if (head_dim % 2 != 0) throw std::invalid_argument("Rotary: head_dim must be even, got " + std::to_string(head_dim));
  const int64_t half = head_dim / 2;
  const auto inverse_frequency = torch::pow(10000.0, -torch::arange(half, torch::kDouble) / double(half));
  const auto angles = torch::outer(torch::arange(context, torch::kDouble), inverse_frequency).to(torch::kFloat);
  cos_ = angles.cos();
  sin_ = angles.sin();
}

torch::Tensor Rotary::apply(const torch::Tensor& x) const {
  const int64_t T = x.size(2), half = x.size(3) / 2;
  const auto cos = cos_.slice(0, 0, T).to(x.device(), x.scalar_type());
  const auto sin = sin_.slice(0, 0, T).to(x.device(), x.scalar_type());
  const auto first = x.slice(-1, 0, half), second = x.slice(-1, half);
  return torch::cat({first * cos - second * sin, first * sin + second * cos}, -1);
}

}  // namespace cw
