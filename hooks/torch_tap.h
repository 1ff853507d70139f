// The LibTorch side of the hooks: capture a layer's output during the probe
// pass and publish it. This header includes torch; the rest of hooks/ does not.
#ifndef CW_HOOKS_TORCH_TAP_H_
#define CW_HOOKS_TORCH_TAP_H_

#include <torch/torch.h>

#include <map>
#include <string>

#include "hooks/publisher.h"

namespace cw {

// A model calls taps.record("blocks.1.resid_post", x) in its forward pass.
// Outside a capture it returns x untouched and costs one branch; inside
// capture() it also keeps a detached view of x.
class TapRecorder {
 public:
  const torch::Tensor& record(const std::string& name, const torch::Tensor& x) {
    if (capturing_) captured_[name] = x.detach();
    return x;
  }

  // Runs `probe_pass` (typically model->forward(probe_tokens)) with capture
  // on and returns what every tap saw.
  template <typename Fn>
  std::map<std::string, torch::Tensor> capture(Fn&& probe_pass) {
    captured_.clear();
    capturing_ = true;
    try {
      torch::NoGradGuard no_grad;
      probe_pass();
    } catch (...) {
      capturing_ = false;
      throw;
    }
    capturing_ = false;
    return std::move(captured_);
  }

 private:
  bool capturing_ = false;
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
