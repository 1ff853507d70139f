// The crosscoder's stored state and its export, torch-free (library
// cw_crosscoder_state, built without LibTorch too): the daemon's
// Crosscoder::serialize() writes a state through encode_crosscoder_state,
// and the CLI reads and exports one with decode_crosscoder_state and
// export_crosscoder without loading the engine. docs/STORE.md describes the
// formats.
#ifndef CW_CROSSCODER_CROSSCODER_STATE_H_
#define CW_CROSSCODER_CROSSCODER_STATE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "crosscoder/crosscoder_options.h"
#include "safetensors/safetensors.h"

namespace cw {

// 1 and 2: "CWCROSS1" | u64 JSON length | JSON | torch::save pickle of the
// tensors (2 added Adam's per-slice step counts). 3: one safetensors file.
constexpr int kCrosscoderStateFormat = 3;

// Everything but the tensors.
struct CrosscoderStateMeta {
  CrosscoderOptions options;
  std::vector<uint64_t> steps;   // training step of each snapshot
  std::vector<double> scales;    // raw → normalised: x_norm = x_raw · scale
  int64_t n_tokens = 0;
  int64_t cumulative_steps = 0;  // all steps trained so far (λ's schedule)
  int64_t lambda_horizon = 0;
  int64_t updates = 0;
  double newest_mse = 0;
  double newest_energy = 0;      // 0 in states written before it was kept
  int64_t steps_since_update = -1;  // Crosscoder::steps_since_update(); -1 in states written before it was kept
  std::string rng;               // std::mt19937_64 as its stream text
};

// The names of a format-3 state's tensors, in their stored order: the five
// parameters (w_enc [F, T·d], w_dec [T, F, d], b_enc [T, F], b_dec [T, d],
// log_tau [F], F32), Adam's moments of each ("adam_m.w_enc", …, F32) and
// Adam's step counts ("adam_latent_steps" [T, F], "adam_threshold_steps"
// [F], "adam_head_steps" [T], I64). A state without snapshots has none.
const std::vector<std::string>& crosscoder_parameter_names();
std::vector<std::string> crosscoder_state_tensor_names();

struct StoredCrosscoderState {
  int format = 0;
  CrosscoderStateMeta meta;
  SafetensorsContents tensors;       // format 3
  std::string_view legacy_tensors;   // formats 1 and 2: the pickle's bytes
};

// A format-3 state: `tensors` named as crosscoder_state_tensor_names().
std::string encode_crosscoder_state(const CrosscoderStateMeta& meta, const std::vector<TensorView>& tensors);
// Any format (views into `bytes`). Throws std::invalid_argument naming what
// is wrong: not a crosscoder state, an unknown format, a missing tensor.
StoredCrosscoderState decode_crosscoder_state(std::string_view bytes);

// The options as the state's JSON holds them (visit_crosscoder_options's
// names); an optional one missing from an older state gets the default.
nlohmann::json crosscoder_options_json(const CrosscoderOptions& options);
CrosscoderOptions crosscoder_options_from_json(const nlohmann::json& json);

// Writes DIR/crosscoder.safetensors (W_E [n_snap, d_model, F], W_D [n_snap,
// F, d_model], b_E [n_snap, F], b_D [n_snap, d_model], log_threshold [F],
// scales [n_snap], steps [n_snap]) and DIR/config.json from the state's
// meta and its five parameters (named as crosscoder_parameter_names()).
// Throws std::logic_error without a snapshot, std::runtime_error when a
// file cannot be written.
void export_crosscoder(const CrosscoderStateMeta& meta, const std::vector<TensorView>& parameters,
                       const std::string& dir);

}  // namespace cw

#endif  // CW_CROSSCODER_CROSSCODER_STATE_H_
