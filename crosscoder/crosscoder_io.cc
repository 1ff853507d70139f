// Persistence: exact-resume serialisation and safetensors export.
//
// serialize(): "CWCROSS1" | u64 little-endian JSON length | JSON (options,
// steps, scales, schedule position, RNG) | torch::save of the 15 tensors
// (5 parameters, Adam m, Adam v).
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
constexpr int kFormatVersion = 1;

nlohmann::json options_json(const CrosscoderOptions& o) {
  return {{"d_model", o.d_model},
          {"n_features", o.n_features},
          {"lr", o.lr},
          {"adam_beta1", o.adam_beta1},
          {"adam_beta2", o.adam_beta2},
          {"warmup_fraction", o.warmup_fraction},
          {"decay_fraction", o.decay_fraction},
          {"threshold_lr_scale", o.threshold_lr_scale},
          {"sparsity_lambda", o.sparsity_lambda},
          {"lambda_warmup_fraction", o.lambda_warmup_fraction},
          {"initial_threshold", o.initial_threshold},
          {"ste_window", o.ste_window},
          {"tanh_scale", o.tanh_scale},
          {"quad_scale", o.quad_scale},
          {"batch_size", o.batch_size},
          {"seed", o.seed},
          {"device", o.device},
          {"threads", o.threads},
          {"steps_per_update", o.steps_per_update},
          {"seconds_per_update", o.seconds_per_update},
          {"dead_frequency", o.dead_frequency},
          {"recruit_fraction", o.recruit_fraction},
          {"merge_unexplained", o.merge_unexplained},
          {"use_sparse_path", o.use_sparse_path}};
}

CrosscoderOptions options_from_json(const nlohmann::json& j) {
  CrosscoderOptions o;
  j.at("d_model").get_to(o.d_model);
  j.at("n_features").get_to(o.n_features);
  j.at("lr").get_to(o.lr);
  j.at("adam_beta1").get_to(o.adam_beta1);
  j.at("adam_beta2").get_to(o.adam_beta2);
  j.at("warmup_fraction").get_to(o.warmup_fraction);
  j.at("decay_fraction").get_to(o.decay_fraction);
  j.at("threshold_lr_scale").get_to(o.threshold_lr_scale);
  j.at("sparsity_lambda").get_to(o.sparsity_lambda);
  j.at("lambda_warmup_fraction").get_to(o.lambda_warmup_fraction);
  j.at("initial_threshold").get_to(o.initial_threshold);
  j.at("ste_window").get_to(o.ste_window);
  j.at("tanh_scale").get_to(o.tanh_scale);
  j.at("quad_scale").get_to(o.quad_scale);
  j.at("batch_size").get_to(o.batch_size);
  j.at("seed").get_to(o.seed);
  j.at("device").get_to(o.device);
  j.at("threads").get_to(o.threads);
  j.at("steps_per_update").get_to(o.steps_per_update);
  j.at("seconds_per_update").get_to(o.seconds_per_update);
  j.at("dead_frequency").get_to(o.dead_frequency);
  j.at("recruit_fraction").get_to(o.recruit_fraction);
  // States saved before merging existed: the default.
  o.merge_unexplained = j.value("merge_unexplained", o.merge_unexplained);
  j.at("use_sparse_path").get_to(o.use_sparse_path);
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
    for (const auto* p : {&m.params, &m.adam_m, &m.adam_v})
      for (auto* t : const_cast<CrosscoderParams*>(p)->all()) tensors.push_back(*t);
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
  if (meta.at("version").get<int>() != kFormatVersion)
    throw std::invalid_argument("crosscoder: serialized format version " + meta.at("version").dump() +
                                " is not supported (this build reads " + std::to_string(kFormatVersion) + ")");
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
    if (tensors.size() != 15) throw std::invalid_argument("crosscoder: serialized state has the wrong tensor count");
    size_t k = 0;
    for (auto* p : {&m.params, &m.adam_m, &m.adam_v})
      for (auto* t : p->all()) *t = tensors[k++];
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
