#include "crosscoder/crosscoder_state.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace cw {
namespace {

constexpr char kLegacyMagic[] = "CWCROSS1";
constexpr char kStateFormatName[] = "conceptwatch crosscoder state";

// The JSON keys are those of formats 1 and 2, so one reader serves all.
nlohmann::json meta_json(const CrosscoderStateMeta& m, int format) {
  return {{"version", format},
          {"options", crosscoder_options_json(m.options)},
          {"steps", m.steps},
          {"scales", m.scales},
          {"n_tokens", m.n_tokens},
          {"cumulative_steps", m.cumulative_steps},
          {"lambda_horizon", m.lambda_horizon},
          {"updates", m.updates},
          {"newest_mse", m.newest_mse},
          {"newest_energy", m.newest_energy},
          {"steps_since_update", m.steps_since_update},
          {"rng", m.rng}};
}

CrosscoderStateMeta meta_from_json(const nlohmann::json& j) {
  CrosscoderStateMeta m;
  m.options = crosscoder_options_from_json(j.at("options"));
  j.at("steps").get_to(m.steps);
  j.at("scales").get_to(m.scales);
  j.at("n_tokens").get_to(m.n_tokens);
  j.at("cumulative_steps").get_to(m.cumulative_steps);
  j.at("lambda_horizon").get_to(m.lambda_horizon);
  j.at("updates").get_to(m.updates);
  j.at("newest_mse").get_to(m.newest_mse);
  m.newest_energy = j.value("newest_energy", 0.0);
  m.steps_since_update = j.value("steps_since_update", int64_t(-1));
  j.at("rng").get_to(m.rng);
  return m;
}

const TensorView& find_tensor(const std::vector<TensorView>& tensors, const std::string& name) {
  for (const auto& t : tensors)
    if (t.name == name) return t;
  throw std::invalid_argument("crosscoder: the state has no tensor '" + name + "'");
}

std::vector<float> f32_values(const TensorView& t) {
  if (t.dtype != TensorDtype::kF32) throw std::invalid_argument("crosscoder: tensor '" + t.name + "' is not F32");
  std::vector<float> values(t.size_bytes() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), t.data, t.size_bytes());
  return values;
}

TensorView renamed(TensorView t, const std::string& name) {
  t.name = name;
  return t;
}

}  // namespace

const std::vector<std::string>& crosscoder_parameter_names() {
  static const std::vector<std::string> names = {"w_enc", "w_dec", "b_enc", "b_dec", "log_tau"};
  return names;
}

std::vector<std::string> crosscoder_state_tensor_names() {
  std::vector<std::string> names = crosscoder_parameter_names();
  for (const char* moment : {"adam_m.", "adam_v."})
    for (const auto& p : crosscoder_parameter_names()) names.push_back(moment + p);
  for (const char* counts : {"adam_latent_steps", "adam_threshold_steps", "adam_head_steps"}) names.push_back(counts);
  return names;
}

nlohmann::json crosscoder_options_json(const CrosscoderOptions& options) {
  nlohmann::json j;
  visit_crosscoder_options(options, [&](const char* key, const auto& value, OptionKey) { j[key] = value; });
  return j;
}

CrosscoderOptions crosscoder_options_from_json(const nlohmann::json& j) {
  CrosscoderOptions o;
  visit_crosscoder_options(o, [&](const char* key, auto& value, OptionKey key_kind) {
    if (key_kind == OptionKey::kRequired || j.contains(key)) j.at(key).get_to(value);
  });
  // A state stored before rows were held out trained on all of them: it
  // must go on doing so (rows it learnt from would not be held out).
  if (!j.contains("hold_out_every")) o.hold_out_every = 0;
  return o;
}

std::string encode_crosscoder_state(const CrosscoderStateMeta& meta, const std::vector<TensorView>& tensors) {
  return encode_safetensors(tensors, {{"format", kStateFormatName},
                                      {"version", std::to_string(kCrosscoderStateFormat)},
                                      {"state", meta_json(meta, kCrosscoderStateFormat).dump()}});
}

StoredCrosscoderState decode_crosscoder_state(std::string_view bytes) {
  StoredCrosscoderState state;
  try {
    if (bytes.size() >= 16 && bytes.substr(0, 8) == std::string_view(kLegacyMagic, 8)) {
      uint64_t meta_len = 0;
      for (int i = 0; i < 8; ++i) meta_len |= uint64_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
      if (meta_len > bytes.size() - 16) throw std::invalid_argument("crosscoder: serialized state is truncated");
      const auto meta = nlohmann::json::parse(bytes.substr(16, meta_len));
      state.format = meta.at("version").get<int>();
      if (state.format != 1 && state.format != 2)
        throw std::invalid_argument("crosscoder: serialized format version " + std::to_string(state.format) +
                                    " is not supported (this build reads 1 to " +
                                    std::to_string(kCrosscoderStateFormat) + ")");
      state.meta = meta_from_json(meta);
      state.legacy_tensors = bytes.substr(16 + meta_len);
      return state;
    }
    if (bytes.size() < 9 || bytes[8] != '{')
      throw std::invalid_argument("crosscoder: not a serialized crosscoder (neither a safetensors file nor CWCROSS1)");
    state.tensors = parse_safetensors(bytes);
    const auto& metadata = state.tensors.metadata;
    auto field = [&](const char* key) {
      auto it = metadata.find(key);
      if (it == metadata.end())
        throw std::invalid_argument(std::string("crosscoder: a safetensors file without '") + key +
                                    "' in its metadata is not a crosscoder state");
      return it->second;
    };
    if (field("format") != kStateFormatName)
      throw std::invalid_argument("crosscoder: safetensors file of format '" + field("format") +
                                  "', not a crosscoder state");
    state.format = std::stoi(field("version"));
    if (state.format != kCrosscoderStateFormat)
      throw std::invalid_argument("crosscoder: serialized format version " + field("version") +
                                  " is not supported (this build reads 1 to " +
                                  std::to_string(kCrosscoderStateFormat) + ")");
    state.meta = meta_from_json(nlohmann::json::parse(field("state")));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("crosscoder: the state's description is malformed: ") + e.what());
  }
  if (!state.meta.steps.empty())
    for (const auto& name : crosscoder_state_tensor_names()) state.tensors.at(name);  // all there
  return state;
}

void export_crosscoder(const CrosscoderStateMeta& meta, const std::vector<TensorView>& parameters,
                       const std::string& dir) {
  const int64_t T = static_cast<int64_t>(meta.steps.size()), F = meta.options.n_features, d = meta.options.d_model;
  if (T == 0) throw std::logic_error("export_safetensors: the crosscoder has no snapshot yet");
  // w_enc [F, T·d] → W_E [T, d, F]: each head's encoder as Python's
  // crosscoders hold it.
  const std::vector<float> w_enc = f32_values(find_tensor(parameters, "w_enc"));
  if (static_cast<int64_t>(w_enc.size()) != F * T * d)
    throw std::invalid_argument("crosscoder: w_enc holds " + std::to_string(w_enc.size()) + " values, not F·T·d");
  std::vector<float> w_e(w_enc.size());
  for (int64_t i = 0; i < F; ++i)
    for (int64_t td = 0; td < T * d; ++td) w_e[td * F + i] = w_enc[i * T * d + td];
  std::vector<float> scales(meta.scales.begin(), meta.scales.end());
  std::vector<int64_t> steps(meta.steps.begin(), meta.steps.end());
  const std::vector<TensorView> tensors = {
      {"W_E", TensorDtype::kF32, {T, d, F}, reinterpret_cast<const char*>(w_e.data())},
      renamed(find_tensor(parameters, "w_dec"), "W_D"),
      renamed(find_tensor(parameters, "b_enc"), "b_E"),
      renamed(find_tensor(parameters, "b_dec"), "b_D"),
      renamed(find_tensor(parameters, "log_tau"), "log_threshold"),
      {"scales", TensorDtype::kF32, {T}, reinterpret_cast<const char*>(scales.data())},
      {"steps", TensorDtype::kI64, {T}, reinterpret_cast<const char*>(steps.data())}};
  // Token-wise the scales are 1 and each row is scaled on its own: no
  // scale folds into the weights.
  const bool per_row = token_wise(meta.options);
  std::filesystem::create_directories(dir);
  std::ofstream out(dir + "/crosscoder.safetensors", std::ios::binary);
  write_safetensors(out, tensors,
                    {{"format", "conceptwatch crosscoder"},
                     {"units", per_row ? "token-normalised: x_norm = x_raw * sqrt(d_model) / ||x_raw|| per row"
                                       : "normalised: x_norm = x_raw * scales[t]"},
                     {"options", crosscoder_options_json(meta.options).dump()}});
  if (!out) throw std::runtime_error("export_safetensors: could not write " + dir + "/crosscoder.safetensors");

  nlohmann::json config = {
      {"options", crosscoder_options_json(meta.options)},
      {"steps", meta.steps},
      {"scales", meta.scales},
      {"cumulative_steps", meta.cumulative_steps},
      {"n_tokens", meta.n_tokens},
      {"units", per_row ? "Weights are in token-normalised units (options.normalisation \"token\"): every row "
                          "x_norm^t = x_raw^t * sqrt(d_model) / ||x_raw^t||, and scales[t] = 1. Normalise each row "
                          "so before encoding; a reconstruction is x_raw^t = x_hat_norm^t * ||x_raw^t|| / sqrt(d_model)."
                        : "Weights are in normalised units: x_norm^t = x_raw^t * scales[t]. To work on raw activations "
                          "fold the scales: W_E_raw[t] = W_E[t] * scales[t], W_D_raw[t] = W_D[t] / scales[t], "
                          "b_D_raw[t] = b_D[t] / scales[t]; b_E and log_threshold are unchanged (the gate compares "
                          "h * ||W_D[t]_i|| in normalised units: use the normalised decoder norms for it)."}};
  std::ofstream cfg(dir + "/config.json");
  cfg << config.dump(2) << "\n";
  if (!cfg) throw std::runtime_error("export_safetensors: could not write " + dir + "/config.json");
}

}  // namespace cw
