// Persistence: exact-resume serialisation and safetensors export, through
// the torch-free crosscoder/crosscoder_state.h (format 3: one safetensors
// file). States of formats 1 and 2 (a torch::save pickle of the tensors)
// still load; docs/STORE.md has the formats.
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <torch/serialize.h>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/crosscoder_state.h"

namespace cw {

namespace {

TensorDtype dtype_of(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat32) return TensorDtype::kF32;
  if (t.scalar_type() == torch::kFloat64) return TensorDtype::kF64;
  if (t.scalar_type() == torch::kInt64) return TensorDtype::kI64;
  throw std::logic_error("crosscoder: a state tensor of dtype " + std::string(c10::toString(t.scalar_type())));
}

torch::ScalarType torch_dtype(TensorDtype dtype) {
  switch (dtype) {
    case TensorDtype::kF32: return torch::kFloat32;
    case TensorDtype::kF64: return torch::kFloat64;
    case TensorDtype::kI64: return torch::kInt64;
  }
  throw std::logic_error("crosscoder: unknown dtype");
}

// Views of `tensors` named `names`; `keep` holds the CPU, contiguous
// copies the views point into (a view of a CPU contiguous tensor is free).
std::vector<TensorView> views(const std::vector<std::string>& names, const std::vector<torch::Tensor>& tensors,
                              std::vector<torch::Tensor>* keep) {
  std::vector<TensorView> out;
  for (size_t i = 0; i < tensors.size(); ++i) {
    keep->push_back(tensors[i].to(torch::kCPU).contiguous());
    const auto& t = keep->back();
    out.push_back({names[i], dtype_of(t), t.sizes().vec(), static_cast<const char*>(t.data_ptr())});
  }
  return out;
}

torch::Tensor to_torch(const TensorView& view) {
  auto t = torch::empty(view.shape, torch::TensorOptions().dtype(torch_dtype(view.dtype)));
  if (view.size_bytes() > 0) std::memcpy(t.data_ptr(), view.data, view.size_bytes());
  return t;
}

CrosscoderStateMeta state_meta(const Crosscoder::Impl& m) {
  std::ostringstream rng_state;
  rng_state << m.rng;
  return {m.options, m.steps,      m.scales,        m.n_tokens,         m.cumulative_steps, m.lambda_horizon,
          m.updates, m.newest_mse, m.newest_energy, m.steps_since_update, rng_state.str()};
}

std::vector<torch::Tensor> parameter_tensors(const Crosscoder::Impl& m) {
  std::vector<torch::Tensor> tensors;
  for (auto* t : const_cast<CrosscoderParams&>(m.params).all()) tensors.push_back(*t);
  return tensors;
}

}  // namespace

std::string Crosscoder::serialize() const {
  const auto& m = *impl_;
  std::vector<torch::Tensor> tensors, keep;
  if (m.n_snap() > 0) {
    tensors = parameter_tensors(m);
    for (auto* t : const_cast<AdamState&>(m.adam).all()) tensors.push_back(*t);
  }
  return encode_crosscoder_state(state_meta(m), views(crosscoder_state_tensor_names(), tensors, &keep));
}

Crosscoder Crosscoder::deserialize(const std::string& bytes) {
  const StoredCrosscoderState state = decode_crosscoder_state(bytes);
  const CrosscoderStateMeta& meta = state.meta;
  Crosscoder cc(meta.options);
  auto& m = *cc.impl_;
  m.steps = meta.steps;
  m.scales = meta.scales;
  m.n_tokens = meta.n_tokens;
  m.cumulative_steps = meta.cumulative_steps;
  m.lambda_horizon = meta.lambda_horizon;
  m.updates = meta.updates;
  m.newest_mse = meta.newest_mse;
  m.newest_energy = meta.newest_energy;
  m.steps_since_update = meta.steps_since_update;
  m.measured_heads = int64_t(m.steps.size());
  std::istringstream rng_state(meta.rng);
  rng_state >> m.rng;
  m.memory.snapshots.assign(m.steps.size(), torch::Tensor());
  if (m.steps.empty()) return cc;
  std::vector<torch::Tensor> tensors;
  if (state.format == kCrosscoderStateFormat) {
    for (const auto& name : crosscoder_state_tensor_names()) tensors.push_back(to_torch(state.tensors.at(name)));
  } else {
    std::istringstream blob{std::string(state.legacy_tensors)};
    torch::load(tensors, blob);
    const size_t expected = state.format == 1 ? 15 : 18;
    if (tensors.size() != expected)
      throw std::invalid_argument("crosscoder: serialized state has " + std::to_string(tensors.size()) +
                                  " tensors, format " + std::to_string(state.format) + " has " +
                                  std::to_string(expected));
  }
  size_t k = 0;
  for (auto* t : m.params.all()) *t = tensors[k++];
  if (state.format == 1) m.adam = AdamState::zeros_for(m.params);  // the counts, shaped; moments below
  for (auto* t : m.adam.all())
    if (k < tensors.size()) *t = tensors[k++];
  // Format 1 corrected every slice with the global step.
  if (state.format == 1) m.adam.set_all_steps(m.cumulative_steps);
  return cc;
}

void Crosscoder::restore_activations(int64_t snapshot, const float* activations, int64_t n_tokens) {
  auto& m = *impl_;
  if (m.streamed) throw std::logic_error("restore_activations: the crosscoder streams its rows (stream_from)");
  if (snapshot < 0 || snapshot >= m.n_snap()) throw std::invalid_argument("restore_activations: no such snapshot");
  if (n_tokens != m.n_tokens)
    throw std::invalid_argument("restore_activations: expected " + std::to_string(m.n_tokens) + " tokens, got " +
                                std::to_string(n_tokens));
  m.memory.snapshots[size_t(snapshot)] = m.normalise(activations, n_tokens, nullptr) * m.scales[snapshot];
}

void Crosscoder::export_safetensors(const std::string& dir) const {
  const auto& m = *impl_;
  if (m.n_snap() == 0) throw std::logic_error("export_safetensors: the crosscoder has no snapshot yet");
  std::vector<torch::Tensor> keep;
  export_crosscoder(state_meta(m), views(crosscoder_parameter_names(), parameter_tensors(m), &keep), dir);
}

}  // namespace cw
