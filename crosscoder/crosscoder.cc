// Growth, training and recruitment. Analysis (evaluate, feature_stats,
// encode, attribution) is in crosscoder_analysis.cc; persistence in
// crosscoder_io.cc.
#include "crosscoder/crosscoder.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/compute_threads.h"
#include "crosscoder/faded_rows.h"
#include "crosscoder/handover_latents.h"
#include "crosscoder/held_out_rows.h"
#include "crosscoder/recruit_presence.h"
#include "crosscoder/returning_latents.h"
#include "crosscoder/schedule.h"
#include "crosscoder/sparsity_default.h"
#include "crosscoder/trainer_ranks.h"

namespace cw {
namespace {

// Pool rows a candidate direction is compared with to rank how typical it is.
constexpr int64_t kRecruitDensitySample = 256;

}  // namespace

torch::Device training_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) != 0)
    throw std::invalid_argument("crosscoder: device '" + name + "' is not one of cpu, cuda, cuda:N");
  std::optional<torch::Device> device;
  try {
    device.emplace(name);
  } catch (const c10::Error&) {
    throw std::invalid_argument("crosscoder: device '" + name + "' is not one of cpu, cuda, cuda:N");
  }
  if (!at::hasCUDA())
    throw std::invalid_argument("crosscoder: device '" + name +
                                "' needs a CUDA build of LibTorch, and this one is CPU-only (as Debian's libtorch is): "
                                "rebuild against a CUDA LibTorch, or use --device cpu");
  if (!torch::cuda::is_available())
    throw std::invalid_argument("crosscoder: device '" + name +
                                "': LibTorch has CUDA but sees no GPU (no driver, or CUDA_VISIBLE_DEVICES hides them): "
                                "use --device cpu");
  if (device->has_index() && device->index() >= static_cast<int64_t>(torch::cuda::device_count()))
    throw std::invalid_argument("crosscoder: device '" + name + "': only " +
                                std::to_string(torch::cuda::device_count()) + " GPU(s) visible");
  return *device;
}

void check_device(const std::string& device) { training_device(device); }

Crosscoder::Impl::Impl(const CrosscoderOptions& o) : options(o), rng(o.seed) {
  if (o.d_model <= 0 || o.n_features <= 0)
    throw std::invalid_argument("crosscoder: d_model and n_features must be positive");
  if (options.sparsity_lambda < 0) options.sparsity_lambda = auto_sparsity_lambda(o.d_model, o.n_features);
  if (o.batch_size <= 0) throw std::invalid_argument("crosscoder: batch_size must be positive");
  if (!(o.init_norm_min > 0 && o.init_norm_step > 0 && o.init_norm_max >= o.init_norm_min))
    throw std::invalid_argument("crosscoder: init_norm_min and init_norm_step must be positive, init_norm_max >= init_norm_min");
  if (!(o.adam_eps > 0)) throw std::invalid_argument("crosscoder: adam_eps must be positive");
  if (o.progress_every <= 0) throw std::invalid_argument("crosscoder: progress_every must be positive");
  try {
    check_option_ranges(o);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("crosscoder: ") + e.what());
  }
  training_device(o.device);  // throws, naming what is missing
  if (o.threads > 0) set_compute_threads(o.threads);
}

torch::Tensor Crosscoder::Impl::normalise(const float* raw, int64_t rows, double* scale_out) const {
  auto x = torch::from_blob(const_cast<float*>(raw), {rows, options.d_model}, torch::kFloat32).clone();
  double scale = scale_out ? 0 : 1;
  if (scale_out) {
    const double mean_norm = x.norm(2, {1}).mean().item<double>();
    if (!(mean_norm > 0)) throw std::invalid_argument("crosscoder: snapshot activations are all zero");
    // Token-wise, every row is scaled on its own: the snapshot's scale is 1.
    scale = per_row() ? 1 : std::sqrt(static_cast<double>(options.d_model)) / mean_norm;
    *scale_out = scale;
  }
  return normalised_rows(x, scale, per_row());
}

torch::Tensor Crosscoder::Impl::sample_batch(const ProbeRows* from) {
  std::uniform_int_distribution<int64_t> pick(0, n_tokens - 1);
  std::vector<int64_t> idx(options.batch_size);
  // Drawn again while held out: with none held out, the draws of before.
  const int64_t every = hold_out_every();
  for (auto& i : idx) do i = pick(rng); while (is_held_out_row(i, every));
  return (from ? *from : rows()).batch(idx);
}

int64_t Crosscoder::Impl::hold_out_every() const { return effective_hold_out_every(n_tokens, options.hold_out_every); }

torch::Tensor Crosscoder::Impl::held_out(int64_t begin, int64_t end) const {
  const int64_t every = hold_out_every();
  auto mask = torch::zeros({end - begin}, torch::kBool);
  if (every == 0) return mask;
  auto* out = mask.data_ptr<bool>();
  for (int64_t r = begin; r < end; ++r) out[r - begin] = is_held_out_row(r, every);
  return mask;
}

torch::Tensor Crosscoder::Impl::probe_rows(int64_t begin, int64_t end) const { return rows().range(begin, end); }

double Crosscoder::Impl::streamed_scale(int64_t t) const {
  if (per_row()) return 1;  // as normalise()
  // Per-row norms chunk by chunk, then their mean over all rows at once:
  // the same reduction as normalise() on the whole snapshot.
  auto norms = torch::empty({n_tokens});
  const int64_t chunk = std::max<int64_t>(1, kStreamedChunkFloats / options.d_model);
  for (int64_t b = 0; b < n_tokens; b += chunk) {
    const int64_t e = std::min(n_tokens, b + chunk);
    norms.slice(0, b, e).copy_(streamed->raw_range(t, b, e).norm(2, {1}));
  }
  const double mean_norm = norms.mean().item<double>();
  if (!(mean_norm > 0)) throw std::invalid_argument("crosscoder: snapshot activations are all zero");
  return std::sqrt(static_cast<double>(options.d_model)) / mean_norm;
}

namespace {

// Whether to stop before the next step. In a group every rank must take
// the same steps, so the ranks agree on it: any rank's stop stops all
// (one float64 summed per step; ranks without a stop flag add 0).
bool stopping(const std::atomic<bool>* stop, HeadGroup* group) {
  const bool here = stop && stop->load();
  if (!group) return here;
  auto flag = torch::full({1}, here ? 1.0 : 0.0, torch::kDouble);
  group->sum(flag);
  return flag.item<double>() > 0;
}

}  // namespace

LossConstants Crosscoder::Impl::constants(double lambda) const {
  LossConstants c;
  c.lambda = lambda;
  c.window = options.ste_window;
  c.tanh_scale = options.tanh_scale;
  c.quad_scale = options.quad_scale;
  c.fusion = options.decoder_fusion;
  return c;
}

void Crosscoder::Impl::forward(const torch::Tensor& x, torch::Tensor* f, torch::Tensor* x_hat,
                               int64_t first_head) const {
  torch::NoGradGuard no_grad;
  const auto h = pre_activation(params, x);
  const auto w_dec = params.w_dec.slice(0, first_head), b_dec = params.b_dec.slice(0, first_head);
  const auto n = decoder_norms(params).slice(0, first_head);
  const auto gate = (h.unsqueeze(1) * n.unsqueeze(0) > params.log_tau.exp()).to(h.scalar_type());
  auto acts = h.unsqueeze(1) * gate;
  if (x_hat) *x_hat = torch::bmm(acts.transpose(0, 1), w_dec).transpose(0, 1) + b_dec;
  if (f) *f = std::move(acts);
}

void Crosscoder::Impl::initialise_paper(const torch::Tensor& batch) {
  const int64_t F = options.n_features, d = options.d_model, T = n_snap();
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> w(F * d);
  for (auto& v : w) v = u(rng);
  auto dir = torch::from_blob(w.data(), {F, d}, torch::kFloat32).clone();
  dir = dir / dir.norm(2, {1}, true).clamp_min(1e-12);
  params.b_enc = torch::zeros({T, F});
  params.b_dec = torch::zeros({T, d});
  params.log_tau = torch::full({F}, std::log(options.initial_threshold));
  double best_mse = INFINITY, best_norm = options.init_norm_min;
  const int64_t grid = static_cast<int64_t>(
                           std::floor((options.init_norm_max - options.init_norm_min) / options.init_norm_step + 1e-9)) +
                       1;
  for (int64_t k = 0; k < grid; ++k) {
    const double norm = options.init_norm_min + options.init_norm_step * static_cast<double>(k);
    params.w_dec = (dir * norm).unsqueeze(0).repeat({T, 1, 1});
    params.w_enc = (dir * norm).repeat({1, T});
    torch::Tensor x_hat;
    forward(batch, nullptr, &x_hat);
    const double mse = (batch - x_hat).pow(2).sum(-1).mean().item<double>();
    if (mse < best_mse) best_mse = mse, best_norm = norm;
  }
  params.w_dec = (dir * best_norm).unsqueeze(0).repeat({T, 1, 1});
  params.w_enc = (dir * best_norm).repeat({1, T});
  adam = AdamState::zeros_for(params);
}

void Crosscoder::Impl::grow_head() {
  params.append_head(true);
  adam.append_head();  // the new head's slices count their own steps
}

void Crosscoder::Impl::adam_update(const CrosscoderParams& grad, double lr) {
  AdamHyper hyper;
  hyper.beta1 = options.adam_beta1;
  hyper.beta2 = options.adam_beta2;
  hyper.eps = options.adam_eps;
  hyper.threshold_lr_scale = options.threshold_lr_scale;
  adam.update(&params, grad, lr, hyper);
}

TrainReport Crosscoder::Impl::train_steps(int64_t budget, const std::function<void(int64_t, double)>& progress,
                                          const std::atomic<bool>* stop, int64_t begin, int64_t end,
                                          double seconds) {
  if (n_snap() == 0) throw std::logic_error("crosscoder: add a snapshot before training");
  // λ warms up over an update's budget (train_offline sets its own horizon
  // first), also when a backlog's share is the first training.
  if (lambda_horizon == 0) lambda_horizon = options.steps_per_update;
  // The state lives on the CPU (analysis, recruitment, persistence). On a
  // GPU the update trains a copy there and brings it back, also when
  // interrupted or when a step throws. sparse_step's fused kernels are
  // raw-pointer CPU loops: on a GPU the step is the dense LibTorch one.
  const torch::Device device = training_device(options.device);
  std::unique_ptr<ProbeRows> device_rows;
  if (device.is_cuda()) {
    device_rows = rows().on(device);
    params = params.to(device), adam = adam.to(device);
  }
  struct BackToCpu {
    Impl* m;
    bool active;
    ~BackToCpu() {
      if (active) m->params = m->params.to(torch::kCPU), m->adam = m->adam.to(torch::kCPU);
    }
  } back{this, device.is_cuda()};
  const bool sparse = options.use_sparse_path && device.is_cpu();
  if (group && !sparse) throw std::logic_error("crosscoder: head-parallel training needs the sparse CPU step");
  TrainReport report;
  const auto start = std::chrono::steady_clock::now();
  if (end < 0) end = budget;
  if (seconds < 0) seconds = options.seconds_per_update;
  if (group) seconds = 0;  // every rank must take every step (Crosscoder::train_in_group)
  CrosscoderParams spare;  // the previous step's gradients: StepContext::reuse
  StepContext context;
  context.reuse = &spare;
  context.group = group;
  for (int64_t s = begin; s < end; ++s) {
    if (stopping(stop, group)) {
      report.interrupted = true;
      break;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > 0 && elapsed > seconds) break;
    const auto batch = sample_batch(device_rows.get());
    const auto c = constants(scheduled_lambda(options, cumulative_steps, lambda_horizon));
    StepResult r = sparse ? sparse_step(params, batch, c, context) : dense_step(params, batch, c);
    adam_update(r.grad, scheduled_lr(options, s, budget));
    spare = std::move(r.grad);
    ++cumulative_steps;
    ++report.steps;
    if (s == begin) report.first_loss = r.loss;
    report.last_loss = r.loss;
    if (progress && (s % options.progress_every == 0 || s + 1 == budget)) progress(s, r.loss);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.tokens_per_second =
      report.seconds > 0 ? static_cast<double>(report.steps * options.batch_size) / report.seconds : 0;
  return report;
}

Crosscoder::Impl::ProbePass Crosscoder::Impl::probe_pass() const {
  torch::NoGradGuard no_grad;
  const int64_t F = options.n_features, T = n_snap();
  const int64_t chunk = chunk_rows(F);
  ProbePass pass{torch::zeros({F}, torch::kFloat64), torch::empty({n_tokens, options.d_model}), CoactivationGram(F),
                 torch::zeros({n_tokens})};
  const auto newest_rows = params.w_dec.select(0, T - 1);                                     // [F, d]
  const auto newest_norms = newest_rows.norm(2, {1}).clamp_min(1e-12);                       // [F]
  const auto all_norms_sq = params.w_dec.pow(2).sum(2);                                      // [T, F]
  pass.fired_newest = torch::zeros({F}, torch::kFloat64);
  pass.energy = torch::zeros({F}, torch::kFloat64);
  if (options.fold_unexplained > 0) {
    pass.decoder = params.w_dec.contiguous();
    pass.ablation = std::make_unique<RefitAblation>(pass.decoder.data_ptr<float>(), F, options.d_model);
  }
  for (int64_t b = 0; b < n_tokens; b += chunk) {
    const int64_t e = std::min(n_tokens, b + chunk);
    const auto x = probe_rows(b, e);
    torch::Tensor f, x_hat;
    forward(x, &f, &x_hat);
    // Held-out rows take part in no move: no firing, no residual.
    const auto held = held_out(b, e).view({-1, 1, 1});
    f.masked_fill_(held, 0);
    x_hat = torch::where(held, x, x_hat);
    const auto open = f > 0;
    pass.fired += open.sum(0).to(torch::kFloat64).amax(0);  // per feature, its busiest snapshot
    pass.fired_newest += open.select(1, T - 1).sum(0).to(torch::kFloat64);
    pass.energy += (f.pow(2) * all_norms_sq.unsqueeze(0)).sum(std::vector<int64_t>{0, 1}).to(torch::kFloat64);
    const auto residual = x.select(1, T - 1) - x_hat.select(1, T - 1);
    pass.residual.slice(0, b, e).copy_(residual);
    const auto cosine = torch::mm(residual, newest_rows.t()) /
                        (residual.norm(2, {1}, true).clamp_min(1e-12) * newest_norms.unsqueeze(0));  // [rows, F]
    const auto active_newest = f.select(1, T - 1) > 0;
    pass.over_decoded.slice(0, b, e).copy_(
        torch::where(active_newest, cosine, torch::zeros_like(cosine)).amin(1).clamp_max(0.0));
    if (pass.ablation) {
      // The newest head only: folding on every head kept the mixtures that
      // hold a feature at the older heads, and with them the L0 excess
      // (docs/CROSSCODER.md "Latents the others reconstruct").
      const auto newest_f = f.select(1, T - 1).contiguous();
      const auto on = active_newest.nonzero().contiguous();  // (row, feature), by row
      const auto on_values = newest_f.index({on.select(1, 0), on.select(1, 1)}).contiguous();
      const int64_t* rf = on.data_ptr<int64_t>();
      const float* values = on_values.data_ptr<float>();
      std::vector<int64_t> features;
      for (int64_t k = 0, nnz = on.size(0); k < nnz;) {
        int64_t end = k;
        features.clear();
        while (end < nnz && rf[2 * end] == rf[2 * k]) features.push_back(rf[2 * end + 1]), ++end;
        pass.ablation->add_row(T - 1, features.data(), values + k, end - k);
        k = end;
      }
    }
    if (!(options.merge_unexplained > 0)) continue;
    // Each row's latents active at any snapshot, with their T activations.
    const auto active = open.any(1).nonzero().contiguous();  // [nnz, 2] (row, feature), by row
    const auto values = f.permute({0, 2, 1}).index({active.select(1, 0), active.select(1, 1)}).contiguous();
    const int64_t nnz = active.size(0);
    const int64_t* rf = active.data_ptr<int64_t>();
    std::vector<int64_t> features;
    for (int64_t k = 0; k < nnz;) {
      int64_t end = k;
      features.clear();
      while (end < nnz && rf[2 * end] == rf[2 * k]) features.push_back(rf[2 * end + 1]), ++end;
      pass.gram.add_row(features.data(), values.data_ptr<float>() + k * T, end - k, T);
      k = end;
    }
  }
  return pass;
}

void Crosscoder::Impl::free_latents(const torch::Tensor& ids, ProbePass* pass) {
  const int64_t F = options.n_features, T = n_snap(), d = options.d_model;
  using torch::indexing::Slice;
  params.w_dec.index_put_({Slice(), ids}, torch::zeros({}));
  params.w_enc.view({F, T, d}).index_put_({ids}, torch::zeros({}));
  params.b_enc.index_put_({Slice(), ids}, torch::zeros({}));
  adam.reset_latents(ids);
  if (pass) pass->fired.index_put_({ids}, 0.0);
}

int64_t Crosscoder::Impl::merge_redundant_latents(ProbePass* pass) {
  if (!(options.merge_unexplained > 0)) return 0;
  torch::NoGradGuard no_grad;
  const auto merges = pass->gram.redundant(options.merge_unexplained);
  if (merges.empty()) return 0;
  // W_D,keep += c · W_D,absorb at every head: f_keep (W_D,keep + c W_D,absorb)
  // is what the pair decoded. The keeper's gate compares h ‖W_D‖ with τ, so
  // τ follows its decoder norm (over the heads, weighted by their norms) and
  // it keeps opening on the tokens it did.
  const auto norm_before = params.w_dec.pow(2).sum(std::vector<int64_t>{0, 2}).sqrt();  // [F]
  std::vector<int64_t> keep, absorb;
  for (const auto& m : merges) {
    params.w_dec.select(1, m.keep).add_(params.w_dec.select(1, m.absorb), m.ratio);
    keep.push_back(m.keep), absorb.push_back(m.absorb);
  }
  // A keeper may have absorbed several latents: its τ follows the growth
  // over all of them, once.
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  const auto keep_ids = torch::tensor(keep, torch::kInt64), absorb_ids = torch::tensor(absorb, torch::kInt64);
  const auto norm_after = params.w_dec.pow(2).sum(std::vector<int64_t>{0, 2}).sqrt();
  const auto growth = (norm_after / norm_before.clamp_min(1e-12)).index_select(0, keep_ids);
  params.log_tau.index_add_(0, keep_ids, growth.log());
  // The absorbed latent is emptied (it never fires again) and counted dead,
  // so recruitment can reuse it in this update.
  free_latents(absorb_ids, pass);
  return static_cast<int64_t>(merges.size());
}

int64_t Crosscoder::Impl::join_handovers(ProbePass* pass) {
  if (!(options.join_handover_cosine > 0) || n_snap() < 2) return 0;
  torch::NoGradGuard no_grad;
  const int64_t F = options.n_features, T = n_snap(), d = options.d_model;
  const auto w_dec = params.w_dec.contiguous();
  const auto joins = handover_latents(w_dec.data_ptr<float>(), T, F, d, options.join_handover_cosine);
  if (joins.empty()) return 0;
  using torch::indexing::Slice;
  std::vector<int64_t> freed;
  for (const auto& j : joins) {
    // B decodes at `at` what A decoded at at − 1 with its own activations:
    // A's older rows, scaled by the ratio of the two rows' norms there, so
    // that B's gate (h ‖W_D‖ > τ) opens at the older heads as at `at`.
    const double ratio = params.w_dec[j.at][j.to].norm().item<double>() /
                         std::max(params.w_dec[j.at - 1][j.from].norm().item<double>(), 1e-12);
    params.w_dec.index_put_({Slice(0, j.at), j.to}, params.w_dec.index({Slice(0, j.at), j.from}) * ratio);
    freed.push_back(j.from);
  }
  free_latents(torch::tensor(freed, torch::kInt64), pass);
  return static_cast<int64_t>(joins.size());
}

int64_t Crosscoder::Impl::fold_explained_latents(ProbePass* pass) {
  if (!pass->ablation) return 0;
  torch::NoGradGuard no_grad;
  // Latents merged or joined away in this pass are gone from the rows.
  const auto freed = (pass->fired == 0).to(torch::kUInt8).contiguous();
  const std::vector<char> gone(freed.data_ptr<uint8_t>(), freed.data_ptr<uint8_t>() + freed.numel());
  const auto folded = pass->ablation->foldable(options.fold_unexplained, gone);
  if (folded.empty()) return 0;
  free_latents(torch::tensor(folded, torch::kInt64), pass);
  return static_cast<int64_t>(folded.size());
}

int64_t Crosscoder::Impl::silence_faded_rows() {
  // A block of a head group holds some of each latent's heads: its levels
  // are read on the whole crosscoder once the blocks are back.
  if (!options.silence_faded_rows || n_snap() < 2 || group) return 0;
  torch::NoGradGuard no_grad;
  const int64_t F = options.n_features, T = n_snap();
  const auto norms = params.w_dec.norm(2, {2}).to(torch::kFloat32).contiguous();  // [T, F]
  const auto rows = faded_rows(norms.data_ptr<float>(), T, F);
  if (rows.empty()) return 0;
  std::vector<int64_t> heads, latents;
  for (const auto& r : rows) heads.push_back(r.head), latents.push_back(r.latent);
  const auto h = torch::tensor(heads, torch::kInt64), i = torch::tensor(latents, torch::kInt64);
  params.w_dec.index_put_({h, i}, 0);
  adam.m.w_dec.index_put_({h, i}, 0);
  adam.v.w_dec.index_put_({h, i}, 0);
  return static_cast<int64_t>(rows.size());
}

int64_t Crosscoder::Impl::split_returning_latents(ProbePass* pass) {
  if (!(options.split_returning_cosine > 0) || n_snap() < 3) return 0;
  torch::NoGradGuard no_grad;
  const int64_t F = options.n_features, T = n_snap(), d = options.d_model;
  const auto norms = params.w_dec.norm(2, {2}).to(torch::kFloat32).contiguous();  // [T, F]
  const auto candidates = returning_latents(norms.data_ptr<float>(), T, F);
  if (candidates.empty()) return 0;
  const auto dead = (pass->fired / static_cast<double>(n_tokens) < options.dead_frequency).nonzero().flatten();
  const int64_t* free_slot = dead.data_ptr<int64_t>();
  int64_t used = 0;
  using torch::indexing::Slice;
  auto enc = params.w_enc.view({F, T, d});
  for (const auto& r : candidates) {
    if (used == dead.size(0)) break;
    const auto before = params.w_dec[r.before_peak][r.latent], after = params.w_dec[r.after_peak][r.latent];
    const double cos = (before * after).sum().item<double>() / std::max(1e-12, (before.norm() * after.norm()).item<double>());
    if (std::fabs(cos) >= options.split_returning_cosine) continue;  // the same direction came back
    const int64_t i = r.latent, j = free_slot[used++];
    // j: the encoder and threshold of i, i's decoder from the return on;
    // i keeps its decoder before it. Adam's moments and counts go with them.
    enc[j].copy_(enc[i]);
    params.b_enc.select(1, j).copy_(params.b_enc.select(1, i));
    params.log_tau[j].copy_(params.log_tau[i]);
    params.w_dec.index_put_({Slice(0, r.returns_at), j}, 0);
    params.w_dec.index_put_({Slice(r.returns_at), j}, params.w_dec.index({Slice(r.returns_at), i}));
    params.w_dec.index_put_({Slice(r.returns_at), i}, 0);
    for (auto* moment : {&adam.m, &adam.v}) {
      moment->w_enc.view({F, T, d})[j].copy_(moment->w_enc.view({F, T, d})[i]);
      moment->b_enc.select(1, j).copy_(moment->b_enc.select(1, i));
      moment->log_tau[j].copy_(moment->log_tau[i]);
      moment->w_dec.index_put_({Slice(0, r.returns_at), j}, 0);
      moment->w_dec.index_put_({Slice(r.returns_at), j}, moment->w_dec.index({Slice(r.returns_at), i}));
      moment->w_dec.index_put_({Slice(r.returns_at), i}, 0);
    }
    adam.latent_steps.select(1, j).copy_(adam.latent_steps.select(1, i));
    adam.threshold_steps[j].copy_(adam.threshold_steps[i]);
    pass->fired[j].copy_(pass->fired[i]);
  }
  return used;
}

int64_t Crosscoder::Impl::recruit_dead_latents(ProbePass* probe_pass, std::vector<int64_t>* recruited) {
  const ProbePass& pass = *probe_pass;
  torch::NoGradGuard no_grad;
  const int64_t F = options.n_features, T = n_snap();
  // The newest head's residual of every probe row: its norm ranks the rows,
  // its direction is what a recruit decodes.
  const auto& residual = pass.residual;
  // Rows whose error is a latent decoding what is not there (an atom that
  // faded, still decoded by the copy of the head before) rank last: a recruit
  // made from them decodes the negative of that latent's direction, and the
  // pair cancels where the first should have shrunk (planted fixture: the
  // last fading atom's feature kept 0.4 of its norm after the fade).
  const auto residual_sq = torch::where(pass.over_decoded < -0.5, torch::zeros({}), residual.pow(2).sum(1));
  auto free_latents = (pass.fired / static_cast<double>(n_tokens) < options.dead_frequency).nonzero().flatten();
  if (options.recruit_faded) {
    // After the dead: latents that fire at older heads but not at the newest
    // (faded), the least energy first — on the early snapshots of a run a
    // dictionary spends most latents on noise and initialisation features,
    // and without these it has none left for what emerges later (planted
    // quiet-then-mass d 64: 3 dead of 512, 1–3 recruits per update, 17 of
    // 86 rising atoms never learned; docs/CROSSCODER.md "Recruiting faded
    // latents"). The least energy first keeps a faded feature that carried
    // much of the older snapshots (a fading atom) longest.
    const double n = static_cast<double>(n_tokens);
    const auto faded = ((pass.fired / n >= options.dead_frequency) & (pass.fired_newest == 0)).nonzero().flatten();
    const auto least_energy_first = std::get<1>(pass.energy.index_select(0, faded).sort());
    free_latents = torch::cat({free_latents, faded.index_select(0, least_energy_first)});
  }
  const int64_t n_recruit =
      std::min<int64_t>(static_cast<int64_t>(std::floor(options.recruit_fraction * free_latents.size(0))), n_tokens);
  if (n_recruit == 0) return 0;
  // Rows drawn at random from the worst-reconstructed quarter, not the very
  // worst rows: those are mostly tokens where several new directions add up,
  // and a latent started on such a mixture learns the mixture. A direction
  // close to one already chosen (|cos| > 0.5) is skipped: on real residual
  // streams the worst rows share their error direction, and tens of latents
  // recruited onto it fire together (the tinygpt demo's loss went ×1000).
  const int64_t pool = std::max<int64_t>(n_recruit, n_tokens / 4);
  const auto candidates = std::get<1>(residual_sq.topk(pool));
  std::vector<int64_t> order(pool);
  for (int64_t i = 0; i < pool; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  const auto shuffled = candidates.index_select(0, torch::tensor(order, torch::kInt64));
  const auto pool_residual = residual.index_select(0, shuffled);
  const auto pool_directions = (pool_residual / pool_residual.norm(2, {1}, true).clamp_min(1e-12)).contiguous();
  const int64_t d = options.d_model;
  const float* dirs = pool_directions.data_ptr<float>();
  // Most typical first: a dictionary direction is one that many badly
  // reconstructed rows share, a mixture of two new ones is particular to the
  // rows where both occur. Visiting the pool by how many of a sample of it
  // are within |cos| 0.9 of a row starts recruits on pure directions (planted,
  // seeds 2-8: mean max cosine at the newest snapshot ≥ 0.994, was 0.955 at
  // worst, where a mixture picked first blocked its atoms as "not distinct").
  // pool × kRecruitDensitySample × d: one small GEMM.
  const auto sample = pool_directions.slice(0, 0, std::min<int64_t>(pool, kRecruitDensitySample));
  const auto density = (torch::mm(pool_directions, sample.t()).abs() > 0.9).sum(1).contiguous();
  const int64_t* typical = density.data_ptr<int64_t>();
  std::vector<int64_t> visit(order.size());
  for (int64_t i = 0; i < pool; ++i) visit[i] = i;
  std::stable_sort(visit.begin(), visit.end(), [&](int64_t a, int64_t b) { return typical[a] > typical[b]; });
  // Greedy in that order (ties: the shuffled one): O(pool × chosen × d), no
  // pool × pool matrix.
  std::vector<int64_t> chosen;
  for (int64_t v = 0; v < pool && int64_t(chosen.size()) < n_recruit; ++v) {
    const int64_t i = visit[v];
    bool distinct = true;
    for (std::size_t c = 0; c < chosen.size() && distinct; ++c) {
      double dot = 0;
      for (int64_t k = 0; k < d; ++k) dot += double(dirs[i * d + k]) * dirs[chosen[c] * d + k];
      distinct = std::fabs(dot) <= 0.5;
    }
    if (distinct) chosen.push_back(i);
  }
  const auto picked = torch::tensor(chosen, torch::kInt64);
  const auto x_newest = rows().snapshot_rows(T - 1, shuffled.index_select(0, picked));
  const auto direction = pool_directions.index_select(0, picked);
  const int64_t n_chosen = static_cast<int64_t>(chosen.size());
  const auto ids = free_latents.slice(0, 0, n_chosen);
  using torch::indexing::Slice;
  // Decoder: the residual direction, at unit norm at the newest head and, at
  // each older head, at the norm that head's own residual supports
  // (older_head_presence: ≈ 1 where the direction was there all along but
  // unexplained, ≈ 0 where it is new; docs/CROSSCODER.md measures both
  // against the 0.1 we had). Encoder: only the newest head reads it, at
  // unit norm, so that h is the token's projection on the direction (at
  // 0.1 × the direction most recruits fell under τ and died again: planted
  // test, mean max cosine 0.90 → 0.99).
  // Threshold: a quarter of the projection of the row it was made from, so that it
  // fires on rows like that one only. Real residual streams are dense: a
  // direction has a sizeable projection on most tokens, and a latent firing
  // on all of them multiplied the loss by ~100 (tinygpt demo) and collapsed
  // the crosscoder.
  const auto source_projection = (x_newest * direction).sum(1);
  const auto threshold = (0.25 * source_projection).clamp_min(options.initial_threshold);
  params.w_dec.index_put_({Slice(0, T - 1), ids}, older_head_presence(*this, direction, threshold).unsqueeze(2) * direction);
  auto enc = params.w_enc.view({F, T, d});
  enc.index_put_({ids}, torch::zeros({}));
  enc.index_put_({ids, T - 1}, direction);
  params.w_dec.index_put_({T - 1, ids}, direction);
  params.b_enc.index_put_({Slice(), ids}, torch::zeros({}));
  params.log_tau.index_put_({ids}, threshold.log());
  adam.reset_latents(ids);
  probe_pass->fired.index_put_({ids}, 1.0);  // taken: a split after this does not reuse them
  if (recruited) recruited->assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + n_chosen);
  return n_chosen;
}

Crosscoder::Crosscoder(const CrosscoderOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Crosscoder::~Crosscoder() = default;
Crosscoder::Crosscoder(Crosscoder&&) noexcept = default;
Crosscoder& Crosscoder::operator=(Crosscoder&&) noexcept = default;

const CrosscoderOptions& Crosscoder::options() const { return impl_->options; }
int64_t Crosscoder::n_snapshots() const { return impl_->n_snap(); }
std::vector<uint64_t> Crosscoder::steps() const { return impl_->steps; }
int64_t Crosscoder::n_tokens() const { return impl_->n_tokens; }

namespace {

void check_new_snapshot(const Crosscoder::Impl& m, uint64_t step, int64_t n_tokens) {
  if (n_tokens <= 0) throw std::invalid_argument("crosscoder: a snapshot needs at least one token");
  if (m.n_snap() > 0 && n_tokens != m.n_tokens)
    throw std::invalid_argument("crosscoder: snapshot has " + std::to_string(n_tokens) + " tokens, the probe set has " +
                                std::to_string(m.n_tokens));
  if (!m.steps.empty() && step <= m.steps.back())
    throw std::invalid_argument("crosscoder: snapshot steps must increase (got " + std::to_string(step) + " after " +
                                std::to_string(m.steps.back()) + ")");
}

}  // namespace

void Crosscoder::add_snapshot(uint64_t step, const float* activations, int64_t n_tokens) {
  auto& m = *impl_;
  if (m.streamed) throw std::logic_error("crosscoder: streamed: add_streamed_snapshot(), not add_snapshot()");
  check_new_snapshot(m, step, n_tokens);
  double scale = 0;
  auto x = m.normalise(activations, n_tokens, &scale);
  m.n_tokens = n_tokens;
  m.steps.push_back(step);
  m.scales.push_back(scale);
  m.memory.snapshots.push_back(x);
  m.add_newest_head();
}

void Crosscoder::add_streamed_snapshot(uint64_t step) {
  auto& m = *impl_;
  if (!m.streamed) throw std::logic_error("crosscoder: add_streamed_snapshot() needs stream_from() first");
  const RowSource& source = m.streamed->source();
  if (source.n_snapshots() <= m.n_snap())
    throw std::logic_error("crosscoder: the row source has no snapshot " + std::to_string(m.n_snap()));
  if (source.d_model() != m.options.d_model)
    throw std::invalid_argument("crosscoder: the row source's d_model is " + std::to_string(source.d_model()) +
                                ", the crosscoder's " + std::to_string(m.options.d_model));
  check_new_snapshot(m, step, source.n_tokens());
  m.n_tokens = source.n_tokens();
  const double scale = m.streamed_scale(m.n_snap());
  m.steps.push_back(step);
  m.scales.push_back(scale);
  m.add_newest_head();
}

void Crosscoder::stream_from(std::shared_ptr<const RowSource> source) {
  auto& m = *impl_;
  if (!source || source->n_snapshots() < m.n_snap())
    throw std::invalid_argument("crosscoder: the row source must have every one of the " + std::to_string(m.n_snap()) +
                                " snapshots");
  if (m.n_snap() > 0 && source->n_tokens() != m.n_tokens)
    throw std::invalid_argument("crosscoder: the row source has " + std::to_string(source->n_tokens()) +
                                " tokens per snapshot, the probe set " + std::to_string(m.n_tokens));
  m.streamed = std::make_unique<StreamedRows>(std::move(source), &m.scales, m.per_row());
  m.memory.snapshots.clear();
}

bool Crosscoder::streamed() const { return impl_->streamed != nullptr; }

void Crosscoder::Impl::add_newest_head() {
  if (n_snap() == 1) {
    initialise_paper(sample_batch());
  } else {
    grow_head();
  }
}

std::vector<Crosscoder::Arrival> Crosscoder::measure_arrivals() {
  auto& m = *impl_;
  const int64_t T = m.n_snap(), first = m.measured_heads, n = m.n_tokens;
  if (first >= T) return {};
  torch::NoGradGuard no_grad;
  std::vector<Arrival> out(size_t(T - first));
  const int64_t chunk = m.chunk_rows(m.options.n_features);
  // Over the rows trained on, as evaluate()'s mse, which the daemon divides
  // the arrival's error by (the held-out rows are harder throughout).
  double trained = 0;
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    const auto rows = m.probe_rows(b, e);  // [R, T, d]
    const auto xs = rows.slice(1, first);
    torch::Tensor x_hat;  // [R, T − first, d]: the encoder reads every head, only the new ones are decoded
    m.forward(rows, nullptr, &x_hat, first);
    const auto w = m.held_out(b, e).logical_not().to(torch::kFloat32).unsqueeze(1);  // [R, 1]
    trained += w.sum().item<double>();
    for (int64_t j = 0; j < T - first; ++j) {
      out[size_t(j)].mse += ((xs.select(1, j) - x_hat.select(1, j)).pow(2) * w).sum().item<double>();
      out[size_t(j)].energy += (xs.select(1, j).pow(2) * w).sum().item<double>();
    }
  }
  for (auto& a : out) a.mse /= trained, a.energy /= trained;
  m.newest_mse = out.back().mse;
  m.newest_energy = out.back().energy;
  m.measured_heads = T;
  return out;
}

double Crosscoder::newest_snapshot_mse() const { return impl_->newest_mse; }

double Crosscoder::newest_snapshot_energy() const { return impl_->newest_energy; }

TrainReport Crosscoder::train_between_arrivals(double share, const std::atomic<bool>* stop, TrainerRanks* ranks) {
  if (!(share > 0 && share <= 1)) throw std::invalid_argument("train_between_arrivals: share must be in (0, 1]");
  const int64_t steps = std::max<int64_t>(1, std::llround(double(impl_->options.steps_per_update) * share));
  TrainReport report = ranks ? ranks->train_budget(*this, steps, nullptr, stop)
                             : impl_->train_steps(steps, nullptr, stop, 0, -1, impl_->options.seconds_per_update * share);
  if (impl_->steps_since_update >= 0) impl_->steps_since_update += report.steps;
  if (!report.interrupted) report.silenced = impl_->silence_faded_rows();
  return report;
}

int64_t Crosscoder::join_handovers() { return impl_->join_handovers(nullptr); }

int64_t Crosscoder::steps_since_update() const { return impl_->steps_since_update; }

TrainReport Crosscoder::train(const std::function<void(int64_t, double)>& progress, const std::atomic<bool>* stop,
                              TrainerRanks* ranks) {
  // Recruit at the start: latents put on what the newest snapshot
  // reconstructs worst (typically what is new in it) train on it in this
  // very update. Recruiting only after training would leave a feature born
  // at the latest snapshot without a trained latent until the next snapshot
  // arrives. Once only: a second round half-way (as we had) put latents on
  // what was left — mostly mixtures and noise once the first recruits had
  // learned the new directions — with half the budget, at the lr's decay,
  // and cost the newest snapshot 0.01–0.04 EV (planted, 3 seeds).
  //
  // Redundant latents are merged, handovers joined and latents the others
  // reconstruct folded first, in the same pass over the probe set: what
  // they free is recruitable at once. Joins before the fold: a latent
  // that took a feature over is kept whole, and the fold then sees the
  // rows without the latent it took it from. Latents that returned with
  // another direction are split last, onto the dead latents recruitment
  // left (off by default: split_returning_cosine).
  int64_t merged = 0, joined = 0, folded = 0, split = 0, recruited = 0;
  std::vector<int64_t> recruited_features;
  if (impl_->n_snap() > 1 && !(stop && stop->load())) {
    auto pass = impl_->probe_pass();
    merged = impl_->merge_redundant_latents(&pass);
    joined = impl_->join_handovers(&pass);
    folded = impl_->fold_explained_latents(&pass);
    recruited = impl_->recruit_dead_latents(&pass, &recruited_features);
    split = impl_->split_returning_latents(&pass);
  }
  auto report = ranks ? ranks->train_budget(*this, impl_->options.steps_per_update, progress, stop)
                      : impl_->train_steps(impl_->options.steps_per_update, progress, stop);
  report.recruited = recruited;
  report.recruited_features = std::move(recruited_features);
  report.merged = merged;
  report.joined = joined;
  report.folded = folded;
  report.split = split;
  if (report.interrupted) return report;
  report.silenced = impl_->silence_faded_rows();
  ++impl_->updates;
  impl_->steps_since_update = 0;
  return report;
}

Crosscoder train_offline(const CrosscoderOptions& options, const std::vector<uint64_t>& steps,
                         const std::vector<const float*>& activations, int64_t n_tokens, int64_t total_steps,
                         const std::function<void(int64_t, double)>& progress) {
  if (steps.size() != activations.size() || steps.empty())
    throw std::invalid_argument("train_offline: need one activation array per step, and at least one");
  // Every one of total_steps is trained: seconds_per_update bounds the
  // online trainer's update, not the offline fit (with it, a refit of the
  // demo run on a loaded machine trained 472 or 1,039 of its 2,000 steps).
  CrosscoderOptions offline = options;
  offline.seconds_per_update = 0;
  // The paper's fit trains every head at once: no feature is handed from
  // one latent to another over the heads, and the fold is an online remedy
  // for what growth leaves (docs/CROSSCODER.md "Latents the others
  // reconstruct"), not measured offline; nor is silencing faded rows.
  offline.fold_unexplained = 0;
  offline.join_handover_cosine = 0;
  offline.silence_faded_rows = false;
  Crosscoder cc(offline);
  auto& m = *cc.impl_;
  m.n_tokens = n_tokens;
  for (size_t t = 0; t < steps.size(); ++t) {
    if (t > 0 && steps[t] <= steps[t - 1]) throw std::invalid_argument("train_offline: steps must increase");
    double scale = 0;
    m.memory.snapshots.push_back(m.normalise(activations[t], n_tokens, &scale));
    m.steps.push_back(steps[t]);
    m.scales.push_back(scale);
  }
  m.initialise_paper(m.sample_batch());  // every head: W_E = W_Dᵀ
  // Redundant latents are folded as online, once per steps_per_update steps
  // (online folds at the start of each update), so that the two differ in
  // how the crosscoder grew, not in whether duplicates are kept: without it
  // the planted fixture's offline fit kept two or three proportional latents
  // on early atoms, L0 40% above the planted one where online was within
  // 13% of it (docs/CROSSCODER.md). merge_unexplained = 0 gives the paper's
  // method alone. What is folded stays dead: offline does not recruit.
  m.lambda_horizon = total_steps;
  const int64_t piece = m.options.merge_unexplained > 0 ? std::max<int64_t>(1, m.options.steps_per_update) : total_steps;
  for (int64_t begin = 0; begin < total_steps; begin += piece) {
    if (begin > 0) {
      auto pass = m.probe_pass();
      m.merge_redundant_latents(&pass);
    }
    m.train_steps(total_steps, progress, nullptr, begin, std::min(total_steps, begin + piece));
  }
  m.updates = 1;
  return cc;
}

}  // namespace cw
