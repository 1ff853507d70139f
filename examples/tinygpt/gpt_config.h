// The shape of a tiny GPT, kept free of torch so that code which only
// parses flags or describes a run does not pay for including it.
#ifndef CW_EXAMPLES_TINYGPT_GPT_CONFIG_H_
#define CW_EXAMPLES_TINYGPT_GPT_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cw {

// How attention sees position: kLearned adds a learned embedding per
// position to the residual stream (as GPT-2 does), kRotary rotates queries
// and keys instead (as GPT-NeoX and Pythia do; examples/tinygpt/rotary.h
// says what it changes in the residual stream).
enum class PositionEncoding { kLearned, kRotary };

struct GPTConfig {
  int64_t vocab_size = 64;
  int64_t context = 64;  // longest sequence, = number of learned positions
  int64_t n_layers = 2;
  int64_t d_model = 64;
  int64_t n_heads = 4;
  bool mlp = false;        // attention-only when false (the classic induction setting)
  bool layer_norm = true;  // pre-LN blocks and a final LN when true
  double init_std = 0.02;  // weights ~ N(0, init_std²); biases 0
  // Rotary by default, as in the paper's Pythia models: with learned
  // positions the position is 51-99% of the residual stream's variance and
  // the induction transition is invisible to a crosscoder reading it
  // (docs/CROSSCODER.md "tinygpt: position in the residual stream").
  PositionEncoding positions = PositionEncoding::kRotary;

  // Throws std::invalid_argument naming the offending field.
  void validate() const;

  // Every residual-stream tap this model offers, in forward order:
  // "embed", then per block "blocks.<i>.resid_mid" (only with MLPs) and
  // "blocks.<i>.resid_post", then (with layer_norm) "ln_final": the last
  // residual after the final LayerNorm, what the unembedding reads. Each is
  // [batch, time, d_model].
  std::vector<std::string> residual_taps() const;

  // Attention-pattern taps "blocks.<i>.attn.pattern", [batch, heads, query, key].
  std::vector<std::string> pattern_taps() const;
};

// "rotary" / "learned", and back (nullopt for anything else).
const char* to_string(PositionEncoding positions);
std::optional<PositionEncoding> parse_position_encoding(const std::string& name);

std::string resid_post_tap(int64_t layer);
std::string pattern_tap(int64_t layer);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_GPT_CONFIG_H_
