#include "examples/tinygpt/model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cw {

namespace F = torch::nn::functional;

namespace {

// `ln` applied to x (nullptr: no LayerNorm), its scale per `norms`.
torch::Tensor normed(torch::nn::LayerNorm ln, const torch::Tensor& x, NormScales norms) {
  if (!ln) return x;
  if (norms == NormScales::kDifferentiable) return ln->forward(x);
  const auto centred = x - x.mean(-1, /*keepdim=*/true);
  const auto sigma = (centred.pow(2).mean(-1, /*keepdim=*/true) + ln->options.eps()).sqrt().detach();
  return centred / sigma * ln->weight + ln->bias;
}

}  // namespace

CausalSelfAttentionImpl::CausalSelfAttentionImpl(int64_t d_model, int64_t n_heads, int64_t context, bool rotary)
    : n_heads_(n_heads) {
  if (rotary) rotary_.emplace(context, d_model / n_heads);
  qkv_ = register_module("qkv", torch::nn::Linear(d_model, 3 * d_model));
  out_ = register_module("out", torch::nn::Linear(d_model, d_model));
  causal_mask_ = register_buffer("causal_mask", torch::ones({context, context}, torch::kBool).triu(1));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x, torch::Tensor* pattern) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2), dh = d / n_heads_;
  auto qkv = qkv_->forward(x).view({B, T, 3, n_heads_, dh}).permute({2, 0, 3, 1, 4});  // [3,B,H,T,dh]
  auto q = qkv[0], k = qkv[1], v = qkv[2];
  if (rotary_) {
    q = rotary_->apply(q);
    k = rotary_->apply(k);
  }
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dh));
  scores = scores.masked_fill(causal_mask_.slice(0, 0, T).slice(1, 0, T), -INFINITY);
  auto weights = torch::softmax(scores, -1);
  if (pattern) *pattern = weights;
  auto mixed = torch::matmul(weights, v).transpose(1, 2).reshape({B, T, d});
  return out_->forward(mixed);
}

BlockImpl::BlockImpl(const GPTConfig& config) {
  attn_ = register_module("attn", CausalSelfAttention(config.d_model, config.n_heads, config.context,
                                                               config.positions == PositionEncoding::kRotary));
  if (config.layer_norm) {
    ln_attn_ = register_module("ln_attn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.d_model})));
  }
  if (config.mlp) {
    if (config.layer_norm) {
      ln_mlp_ = register_module("ln_mlp", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.d_model})));
    }
    mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(config.d_model, 4 * config.d_model),
                                                          torch::nn::GELU(),
                                                          torch::nn::Linear(4 * config.d_model, config.d_model)));
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor* resid_mid, torch::Tensor* pattern,
                                 NormScales norms) {
  auto h = x + attn_->forward(normed(ln_attn_, x, norms), pattern);
  if (resid_mid) *resid_mid = h;
  if (mlp_) h = h + mlp_->forward(normed(ln_mlp_, h, norms));
  return h;
}

GPTImpl::GPTImpl(const GPTConfig& config) : config_(config) {
  config_.validate();
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(config_.vocab_size, config_.d_model));
  if (config_.positions == PositionEncoding::kLearned) {
    position_embedding_ =
        register_module("position_embedding", torch::nn::Embedding(config_.context, config_.d_model));
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.n_layers; ++i) blocks_->push_back(Block(config_));
  if (config_.layer_norm) {
    ln_final_ = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config_.d_model})));
  }
  unembed_ = register_module("unembed",
                             torch::nn::Linear(torch::nn::LinearOptions(config_.d_model, config_.vocab_size).bias(false)));
  init_weights();
}

// GPT-2's scheme: every matrix N(0, init_std²), biases zero, LayerNorms at
// identity. The default Kaiming-uniform init of torch::nn::Linear gives much
// larger attention logits at step 0 and changes when induction heads form.
void GPTImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    auto& w = p.value();
    if (name.find("ln_") != std::string::npos) {
      w.fill_(name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0 ? 1.0 : 0.0);
    } else if (w.dim() >= 2) {
      w.normal_(0.0, config_.init_std);
    } else {
      w.zero_();
    }
  }
}

torch::Tensor GPTImpl::forward(const torch::Tensor& tokens) { return run(tokens, NormScales::kDifferentiable); }

GPTImpl::TappedForward GPTImpl::forward_with_taps(const torch::Tensor& tokens, const std::set<std::string>& taps,
                                                  NormScales norms) {
  std::vector<std::string> offered = config_.residual_taps();
  for (auto& name : config_.pattern_taps()) offered.push_back(name);
  for (const auto& name : taps) {
    if (std::find(offered.begin(), offered.end(), name) == offered.end()) {
      throw std::invalid_argument("GPT: no tap named '" + name + "'; this model offers e.g. embed, " +
                                  resid_post_tap(0) + ", " + pattern_tap(0));
    }
  }
  TappedForward result;
  result.taps = taps_.capture_in_graph(taps, [&] { result.logits = run(tokens, norms); });
  return result;
}

torch::Tensor GPTImpl::run(const torch::Tensor& tokens, NormScales norms) {
  if (tokens.dim() != 2 || tokens.size(1) > config_.context) {
    throw std::invalid_argument("GPT: tokens must be [batch, time] with time <= context (" +
                                std::to_string(config_.context) + ")");
  }
  auto embedded = token_embedding_->forward(tokens);
  if (position_embedding_) {
    const int64_t T = tokens.size(1);
    auto positions = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(tokens.device()));
    embedded = embedded + position_embedding_->forward(positions).unsqueeze(0);
  }
  auto x = taps_.record("embed", embedded);
  for (int64_t i = 0; i < config_.n_layers; ++i) {
    const std::string prefix = "blocks." + std::to_string(i) + ".";
    torch::Tensor resid_mid, pattern;
    const bool want_mid = config_.mlp && taps_.wants(prefix + "resid_mid");
    const bool want_pattern = taps_.wants(prefix + "attn.pattern");
    x = blocks_[i]->as<Block>()->forward(x, want_mid ? &resid_mid : nullptr, want_pattern ? &pattern : nullptr, norms);
    if (want_mid) taps_.record(prefix + "resid_mid", resid_mid);
    if (want_pattern) taps_.record(prefix + "attn.pattern", pattern);
    taps_.record(prefix + "resid_post", x);
  }
  const auto final_stream = taps_.record("ln_final", normed(ln_final_, x, norms));
  return unembed_->forward(final_stream);
}

}  // namespace cw
