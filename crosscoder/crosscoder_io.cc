// Persistence: exact-resume serialisation and safetensors export.
//
// serialize(): "CWCROSS1" | u64 little-endian JSON length | JSON (options,
// steps, scales, schedule position, RNG) | torch::save of the 18 tensors
// (5 parameters, Adam m, Adam v, Adam's 3 step-count tensors).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"

namespace cw {

namespace {

constexpr char kMagic[] = "CWCROSS1";
// 2: Adam's per-slice step counts (three more tensors). 1 is still read.
constexpr int kFormatVersion = 2;

// Every option once, for both directions. Keys added after the first saved
// states are optional on load (older states: the default).
enum class Key { kRequired, kOptional };

template <typename Options, typename Visit>
void visit_options(Options& o, Visit&& v) {
  v("d_model", o.d_model, Key::kRequired);
  v("n_features", o.n_features, Key::kRequired);
  v("lr", o.lr, Key::kRequired);
  v("adam_beta1", o.adam_beta1, Key::kRequired);
  v("adam_beta2", o.adam_beta2, Key::kRequired);
  v("warmup_fraction", o.warmup_fraction, Key::kRequired);
  v("decay_fraction", o.decay_fraction, Key::kRequired);
  v("final_lr_ratio", o.final_lr_ratio, Key::kOptional);
  v("adam_eps", o.adam_eps, Key::kOptional);
  v("threshold_lr_scale", o.threshold_lr_scale, Key::kRequired);
  v("sparsity_lambda", o.sparsity_lambda, Key::kRequired);
  v("lambda_warmup_fraction", o.lambda_warmup_fraction, Key::kRequired);
  v("initial_threshold", o.initial_threshold, Key::kRequired);
  v("ste_window", o.ste_window, Key::kRequired);
  v("tanh_scale", o.tanh_scale, Key::kRequired);
  v("quad_scale", o.quad_scale, Key::kRequired);
  v("init_norm_min", o.init_norm_min, Key::kOptional);
  v("init_norm_max", o.init_norm_max, Key::kOptional);
  v("init_norm_step", o.init_norm_step, Key::kOptional);
  v("batch_size", o.batch_size, Key::kRequired);
  v("seed", o.seed, Key::kRequired);
  v("device", o.device, Key::kRequired);
  v("threads", o.threads, Key::kRequired);
  v("steps_per_update", o.steps_per_update, Key::kRequired);
  v("seconds_per_update", o.seconds_per_update, Key::kRequired);
  v("dead_frequency", o.dead_frequency, Key::kRequired);
  v("recruit_fraction", o.recruit_fraction, Key::kRequired);
  v("merge_unexplained", o.merge_unexplained, Key::kOptional);
  v("use_sparse_path", o.use_sparse_path, Key::kRequired);
  v("dense_frequency", o.dense_frequency, Key::kOptional);
  v("progress_every", o.progress_every, Key::kOptional);
}

nlohmann::json options_json(const CrosscoderOptions& o) {
  nlohmann::json j;
  visit_options(o, [&](const char* key, const auto& value, Key) { j[key] = value; });
  return j;
}

CrosscoderOptions options_from_json(const nlohmann::json& j) {
  CrosscoderOptions o;
  visit_options(o, [&](const char* key, auto& value, Key key_kind) {
    if (key_kind == Key::kRequired || j.contains(key)) j.at(key).get_to(value);
  });
  return o;
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

std::string Crosscoder::serialize() const {
  const auto& m = *impl_;
  std::ostringstream rng_state;
  rng_state << m.rng;
  nlohmann::json meta = {{"version", kFormatVersion},
                         {"options", options_json(m.options)},
                         {"steps", m.steps},
                         {"scales", m.scales},
                         {"n_tokens", m.n_tokens},
                         {"cumulative_steps", m.cumulative_steps},
                         {"lambda_horizon", m.lambda_horizon},
                         {"updates", m.updates},
                         {"newest_mse", m.newest_mse},
                         {"rng", rng_state.str()}};
  const std::string meta_text = meta.dump();
  std::string out(kMagic, 8);
  put_u64(out, meta_text.size());
  out += meta_text;
  if (m.n_snap() > 0) {
    std::vector<torch::Tensor> tensors;
    for (auto* t : const_cast<CrosscoderParams&>(m.params).all()) tensors.push_back(*t);
    for (auto* t : const_cast<AdamState&>(m.adam).all()) tensors.push_back(*t);
    std::ostringstream blob;
    torch::save(tensors, blob);
    out += blob.str();
  }
  return out;
}

Crosscoder Crosscoder::deserialize(const std::string& bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw std::invalid_argument("crosscoder: not a serialized crosscoder (bad magic)");
  const uint64_t meta_len = get_u64(bytes, 8);
  if (16 + meta_len > bytes.size()) throw std::invalid_argument("crosscoder: serialized state is truncated");
  const auto meta = nlohmann::json::parse(bytes.substr(16, meta_len));
  const int version = meta.at("version").get<int>();
  if (version != kFormatVersion && version != 1)
    throw std::invalid_argument("crosscoder: serialized format version " + meta.at("version").dump() +
                                " is not supported (this build reads 1 to " + std::to_string(kFormatVersion) + ")");
  Crosscoder cc(options_from_json(meta.at("options")));
  auto& m = *cc.impl_;
  meta.at("steps").get_to(m.steps);
  meta.at("scales").get_to(m.scales);
  meta.at("n_tokens").get_to(m.n_tokens);
  meta.at("cumulative_steps").get_to(m.cumulative_steps);
  meta.at("lambda_horizon").get_to(m.lambda_horizon);
  meta.at("updates").get_to(m.updates);
  meta.at("newest_mse").get_to(m.newest_mse);
  std::istringstream rng_state(meta.at("rng").get<std::string>());
  rng_state >> m.rng;
  m.activations.assign(m.steps.size(), torch::Tensor());
  if (!m.steps.empty()) {
    std::vector<torch::Tensor> tensors;
    std::istringstream blob(bytes.substr(16 + meta_len));
    torch::load(tensors, blob);
    const size_t expected = version == 1 ? 15 : 18;
    if (tensors.size() != expected)
      throw std::invalid_argument("crosscoder: serialized state has " + std::to_string(tensors.size()) +
                                  " tensors, format " + std::to_string(version) + " has " + std::to_string(expected));
    size_t k = 0;
    for (auto* t : m.params.all()) *t = tensors[k++];
    if (version == 1) m.adam = AdamState::zeros_for(m.params);  // the counts, shaped; moments below
    for (auto* t : m.adam.all())
      if (k < tensors.size()) *t = tensors[k++];
    // Format 1 corrected every slice with the global step.
    if (version == 1) m.adam.set_all_steps(m.cumulative_steps);
  }
  return cc;
}

void Crosscoder::restore_activations(int64_t snapshot, const float* activations, int64_t n_tokens) {
  auto& m = *impl_;
  if (snapshot < 0 || snapshot >= m.n_snap()) throw std::invalid_argument("restore_activations: no such snapshot");
  if (n_tokens != m.n_tokens)
    throw std::invalid_argument("restore_activations: expected " + std::to_string(m.n_tokens) + " tokens, got " +
                                std::to_string(n_tokens));
  m.activations[snapshot] = m.normalise(activations, n_tokens, nullptr) * m.scales[snapshot];
}

void Crosscoder::export_safetensors(const std::string& dir) const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, d = m.options.d_model;
  if (T == 0) throw std::logic_error("export_safetensors: the crosscoder has no snapshot yet");
  std::filesystem::create_directories(dir);
  const auto steps = torch::tensor(std::vector<int64_t>(m.steps.begin(), m.steps.end()), torch::kInt64);
  const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"W_E", m.params.w_enc.view({F, T, d}).permute({1, 2, 0}).contiguous()},
      {"W_D", m.params.w_dec.contiguous()},
      {"b_E", m.params.b_enc.contiguous()},
      {"b_D", m.params.b_dec.contiguous()},
      {"log_threshold", m.params.log_tau.contiguous()},
      {"scales", torch::tensor(m.scales, torch::kFloat64).to(torch::kFloat32)},
      {"steps", steps}};
  nlohmann::json header;
  header["__metadata__"] = {{"format", "conceptwatch crosscoder"},
                            {"units", "normalised: x_norm = x_raw * scales[t]"},
                            {"options", options_json(m.options).dump()}};
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t size = static_cast<uint64_t>(t.numel() * t.element_size());
    header[name] = {{"dtype", t.scalar_type() == torch::kInt64 ? "I64" : "F32"},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string header_text = header.dump();
  while (header_text.size() % 8 != 0) header_text.push_back(' ');
  std::string prefix;
  put_u64(prefix, header_text.size());
  std::ofstream out(dir + "/crosscoder.safetensors", std::ios::binary);
  out.write(prefix.data(), 8);
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  for (const auto& entry : tensors)
    out.write(static_cast<const char*>(entry.second.data_ptr()),
              static_cast<std::streamsize>(entry.second.numel() * entry.second.element_size()));
  if (!out) throw std::runtime_error("export_safetensors: could not write " + dir + "/crosscoder.safetensors");

  nlohmann::json config = {
      {"options", options_json(m.options)},
      {"steps", m.steps},
      {"scales", m.scales},
      {"cumulative_steps", m.cumulative_steps},
      {"n_tokens", m.n_tokens},
      {"units",
       "Weights are in normalised units: x_norm^t = x_raw^t * scales[t]. To work on raw activations fold the "
       "scales: W_E_raw[t] = W_E[t] * scales[t], W_D_raw[t] = W_D[t] / scales[t], b_D_raw[t] = b_D[t] / "
       "scales[t]; b_E and log_threshold are unchanged (the gate compares h * ||W_D[t]_i|| in normalised "
       "units: use the normalised decoder norms for it)."}};
  std::ofstream cfg(dir + "/config.json");
  cfg << config.dump(2) << "\n";
  if (!cfg) throw std::runtime_error("export_safetensors: could not write " + dir + "/config.json");
}

}  // namespace cw
