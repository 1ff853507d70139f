#include "examples/tinygpt/gpt_config.h"

#include <stdexcept>

namespace cw {

namespace {
void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("GPTConfig: " + message);
}
}  // namespace

void GPTConfig::validate() const {
  require(vocab_size >= 2, "vocab_size must be at least 2, got " + std::to_string(vocab_size));
  require(context >= 2, "context must be at least 2, got " + std::to_string(context));
  require(n_layers >= 1, "n_layers must be at least 1, got " + std::to_string(n_layers));
  require(n_heads >= 1, "n_heads must be at least 1, got " + std::to_string(n_heads));
  require(d_model >= 1 && d_model % n_heads == 0,
          "d_model (" + std::to_string(d_model) + ") must be a positive multiple of n_heads (" +
              std::to_string(n_heads) + ")");
  require(init_std > 0, "init_std must be positive");
  require(positions != PositionEncoding::kRotary || (d_model / n_heads) % 2 == 0,
          "rotary positions need an even head width, got d_model / n_heads = " + std::to_string(d_model / n_heads));
}

const char* to_string(PositionEncoding positions) {
  return positions == PositionEncoding::kRotary ? "rotary" : "learned";
}

std::optional<PositionEncoding> parse_position_encoding(const std::string& name) {
  if (name == "rotary") return PositionEncoding::kRotary;
  if (name == "learned") return PositionEncoding::kLearned;
  return std::nullopt;
}

std::string resid_post_tap(int64_t layer) { return "blocks." + std::to_string(layer) + ".resid_post"; }
std::string pattern_tap(int64_t layer) { return "blocks." + std::to_string(layer) + ".attn.pattern"; }

std::vector<std::string> GPTConfig::residual_taps() const {
  std::vector<std::string> taps{"embed"};
  for (int64_t i = 0; i < n_layers; ++i) {
    if (mlp) taps.push_back("blocks." + std::to_string(i) + ".resid_mid");
    taps.push_back(resid_post_tap(i));
  }
  if (layer_norm) taps.push_back("ln_final");
  return taps;
}

std::vector<std::string> GPTConfig::pattern_taps() const {
  std::vector<std::string> taps;
  for (int64_t i = 0; i < n_layers; ++i) taps.push_back(pattern_tap(i));
  return taps;
}

}  // namespace cw
