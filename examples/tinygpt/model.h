// A small GPT in the style of the PyTorch C++ frontend examples: token and
// learned positional embeddings, pre-LN blocks of causal multi-head
// attention (and optionally an MLP), an unembedding. Every tap point of the
// forward pass goes through a TapRecorder (hooks/torch_tap.h), the API a
// LibTorch job uses to hand conceptwatch its activations.
#ifndef CW_EXAMPLES_TINYGPT_MODEL_H_
#define CW_EXAMPLES_TINYGPT_MODEL_H_

#include <torch/torch.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "examples/tinygpt/gpt_config.h"
#include "examples/tinygpt/rotary.h"
#include "hooks/torch_tap.h"

namespace cw {

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  // `rotary`: rotate queries and keys by position (examples/tinygpt/rotary.h).
  CausalSelfAttentionImpl(int64_t d_model, int64_t n_heads, int64_t context, bool rotary);
  // x: [B, T, d]. When `pattern` is non-null it receives the attention
  // weights [B, heads, T, T] (still in the autograd graph).
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* pattern = nullptr);

 private:
  int64_t n_heads_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr};
  torch::Tensor causal_mask_;  // [context, context], true above the diagonal
  std::optional<Rotary> rotary_;
};
TORCH_MODULE(CausalSelfAttention);

// How a LayerNorm's scale 1/σ(x) takes part in autograd. kFrozen: as a
// constant (the same values forward). A metric read through a LayerNorm is
// scale-invariant in x, so its true gradient g has x · g ≈ 0: a linear
// attribution f_i (W_D,i · g) then sums to about nothing, and the direction
// x points in — once a feature dominates the residual, that feature's — is
// projected out of g. With the scale frozen the metric is linear in the
// residual (for the final LayerNorm: the direct logit attribution), and
// the attributions add up to it. Task probes use kFrozen.
enum class NormScales { kDifferentiable, kFrozen };

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const GPTConfig& config);
  // Returns the residual after attention and, with MLPs, after the MLP too;
  // *resid_mid gets the residual between them.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* resid_mid, torch::Tensor* pattern,
                        NormScales norms = NormScales::kDifferentiable);

 private:
  torch::nn::LayerNorm ln_attn_{nullptr}, ln_mlp_{nullptr};
  CausalSelfAttention attn_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(Block);

class GPTImpl : public torch::nn::Module {
 public:
  explicit GPTImpl(const GPTConfig& config);

  // tokens: int64 [B, T] with T <= context. Returns logits [B, T, vocab].
  // Inside taps().capture() the named taps are recorded too.
  torch::Tensor forward(const torch::Tensor& tokens);

  struct TappedForward {
    torch::Tensor logits;                         // [B, T, vocab]
    std::map<std::string, torch::Tensor> taps;    // name -> tensor, in the graph
  };
  // Like forward(), and also returns the tensors at the named taps (see
  // GPTConfig::residual_taps() and pattern_taps()). Tapped tensors are not
  // detached, so a caller can take gradients with respect to them.
  // Throws std::invalid_argument for a name the model does not have.
  TappedForward forward_with_taps(const torch::Tensor& tokens, const std::set<std::string>& taps,
                                  NormScales norms = NormScales::kDifferentiable);

  const GPTConfig& config() const { return config_; }
  // Where forward() records its taps (see GPTConfig::residual_taps() and
  // pattern_taps() for the names).
  TapRecorder& taps() { return taps_; }

 private:
  void init_weights();
  torch::Tensor run(const torch::Tensor& tokens, NormScales norms);

  GPTConfig config_;
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm ln_final_{nullptr};
  torch::nn::Linear unembed_{nullptr};
  TapRecorder taps_;
};
TORCH_MODULE(GPT);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_MODEL_H_
