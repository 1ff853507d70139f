// The LibTorch side of the hooks: capture a layer's output during the probe
// pass and publish it. This header includes torch; the rest of hooks/ does not.
#ifndef CW_HOOKS_TORCH_TAP_H_
#define CW_HOOKS_TORCH_TAP_H_

#include <torch/types.h>
#include <torch/utils.h>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "hooks/publisher.h"

namespace cw {

// A model calls taps.record("blocks.1.resid_post", x) in its forward pass.
// Outside a capture it returns x untouched and costs one branch; inside
// capture() it also keeps a detached view of x.
class TapRecorder {
 public:
  // Whether the pass running now captures `name`: a model may skip
  // computing a tap nobody asked for (an attention pattern, say).
  bool wants(const std::string& name) const { return capturing_ && (!names_ || names_->count(name) > 0); }

  const torch::Tensor& record(const std::string& name, const torch::Tensor& x) {
    if (wants(name)) captured_[name] = in_graph_ ? x : x.detach();
    return x;
  }

  // Runs `probe_pass` (typically model->forward(probe_tokens)) without
  // gradients, capture on, and returns what every tap saw.
  template <typename Fn>
  std::map<std::string, torch::Tensor> capture(Fn&& probe_pass) {
    torch::NoGradGuard no_grad;
    return run(std::nullopt, false, probe_pass);
  }

  // The same for the taps in `names` only.
  template <typename Fn>
  std::map<std::string, torch::Tensor> capture(std::set<std::string> names, Fn&& probe_pass) {
    torch::NoGradGuard no_grad;
    return run(std::move(names), false, probe_pass);
  }

  // Runs `pass` as the caller set autograd up and returns the taps in
  // `names` still in the graph, so that a gradient with respect to them
  // can be taken (a task metric's, for attribution).
  template <typename Fn>
  std::map<std::string, torch::Tensor> capture_in_graph(std::set<std::string> names, Fn&& pass) {
    return run(std::move(names), true, pass);
  }

 private:
  template <typename Fn>
  std::map<std::string, torch::Tensor> run(std::optional<std::set<std::string>> names, bool in_graph, Fn& pass) {
    captured_.clear();
    names_ = std::move(names);
    in_graph_ = in_graph;
    capturing_ = true;
    try {
      pass();
    } catch (...) {
      capturing_ = false;
      throw;
    }
    capturing_ = false;
    return std::move(captured_);
  }

  bool capturing_ = false;
  bool in_graph_ = false;
  std::optional<std::set<std::string>> names_;  // nullopt: every tap
  std::map<std::string, torch::Tensor> captured_;
};

// Publishes `activations` ([..., d_model], any device and float dtype) as
// the snapshot meta.key. Converts to the run's dtype on the CPU; when the
// tensor already is a contiguous CPU tensor of that dtype, publish()'s copy
// is the only one.
inline bool publish_tensor(Publisher& publisher, SnapshotMeta meta, const torch::Tensor& activations) {
  const DType dtype = publisher.run().dtype;
  const auto scalar_type = dtype == DType::kF32 ? torch::kFloat32 : dtype == DType::kF16 ? torch::kFloat16 : torch::kBFloat16;
  const int64_t d_model = activations.size(-1);
  torch::Tensor flat = activations.detach().reshape({-1, d_model}).to(torch::kCPU, scalar_type).contiguous();
  meta.n_tokens = uint32_t(flat.size(0));
  meta.d_model = uint32_t(d_model);
  meta.dtype = dtype;
  return publisher.publish(meta, flat.data_ptr());
}

}  // namespace cw

#endif  // CW_HOOKS_TORCH_TAP_H_
