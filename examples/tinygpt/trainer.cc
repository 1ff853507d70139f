#include "examples/tinygpt/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "crosscoder/compute_threads.h"
#include "examples/tinygpt/checkpoint_schedule.h"
#include "examples/tinygpt/induction_metrics.h"
#include "examples/tinygpt/model.h"
#include "examples/tinygpt/probe_runner.h"
#include "examples/tinygpt/training_data.h"

namespace cw {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void set_first(std::optional<uint64_t>& slot, bool condition, uint64_t step) {
  if (condition && !slot) slot = step;
}

void validate(const TrainOptions& o) {
  if (o.dataset != "repeat" && o.dataset != "kjv") {
    throw std::invalid_argument("dataset must be 'repeat' or 'kjv', got '" + o.dataset + "'");
  }
  if (o.batch < 1) throw std::invalid_argument("batch must be at least 1");
  if (!(o.lr > 0)) throw std::invalid_argument("lr must be positive");
  if (o.threads < 1) throw std::invalid_argument("threads must be at least 1");
  if (o.probe_sequences < 1) throw std::invalid_argument("probe sequences must be at least 1");
  if (o.task_sequences < 0) throw std::invalid_argument("task sequences must not be negative");
  if (o.log_every < 1) throw std::invalid_argument("log-every must be at least 1");
}

// Per-step metrics of the repeat task, from the training batch's forward.
struct RepeatMetrics {
  double second_copy_loss, first_copy_loss, icl_score, prefix_matching_max;
  std::vector<std::vector<double>> prefix_matching;  // [layer][head]
};

RepeatMetrics repeat_metrics(const torch::Tensor& losses, const GPTImpl::TappedForward& fwd, const GPTConfig& config,
                             const torch::Tensor& copy_lengths) {
  const int64_t T = losses.size(1) + 1;
  RepeatMetrics m;
  m.second_copy_loss = masked_mean(losses, second_copy_targets(T, copy_lengths));
  m.first_copy_loss = masked_mean(losses, first_copy_targets(T, copy_lengths));
  // Negative when the model predicts late tokens better than early ones.
  m.icl_score = m.second_copy_loss - m.first_copy_loss;
  m.prefix_matching_max = 0;
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    auto scores = prefix_matching_scores(fwd.taps.at(pattern_tap(layer)).detach(), copy_lengths);
    std::vector<double> heads(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
    for (double s : heads) m.prefix_matching_max = std::max(m.prefix_matching_max, s);
    m.prefix_matching.push_back(std::move(heads));
  }
  return m;
}

double eval_loss(GPT& model, const torch::Tensor& tokens) {
  torch::NoGradGuard no_grad;
  return next_token_losses(model->forward(tokens), tokens).mean().item<double>();
}

}  // namespace

TrainSummary train_tinygpt(const TrainOptions& options, SnapshotSink& sink, std::ostream* progress) {
  validate(options);
  set_compute_threads(options.threads);  // torch's and OpenBLAS's pools
  torch::manual_seed(options.seed);
  const bool repeat = options.dataset == "repeat";
  const TrainingData data = repeat ? make_repeat_data(options) : make_kjv_data(options);

  GPTConfig config = options.model;
  config.vocab_size = data.vocab_size;
  config.context = data.sequence_length;
  GPT model(config);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(options.lr));

  const std::vector<std::string> taps = options.taps.empty() ? config.residual_taps() : options.taps;
  ProbeRunner probe(model, data, taps);
  ProbeDescription description = probe.describe(options.run_name, options.dataset);
  if (!repeat) {
    description.facts = {{"probe_unigram_entropy", data.unigram_entropy}, {"probe_bigram_entropy", data.bigram_entropy}};
  }
  sink.on_probe_set(description);

  std::ofstream metrics;
  if (!options.metrics_path.empty()) {
    metrics.open(options.metrics_path);
    if (!metrics) throw std::runtime_error("cannot write metrics file '" + options.metrics_path + "'");
  }
  const torch::Tensor eval_tokens = to_token_tensor(data.eval.tokens, data.sequence_length);
  // Repeat batches also return attention patterns, for prefix matching.
  const std::vector<std::string> patterns = config.pattern_taps();
  const std::set<std::string> train_taps =
      repeat ? std::set<std::string>(patterns.begin(), patterns.end()) : std::set<std::string>{};
  const CheckpointSchedule schedule(options.log_spaced_until, options.snapshot_every, options.steps);
  const uint64_t tokens_per_step = uint64_t(options.batch * data.sequence_length);

  TrainSummary summary;
  summary.probe_unigram_entropy = data.unigram_entropy;
  summary.probe_bigram_entropy = data.bigram_entropy;
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 1);
  const auto start = Clock::now();
  auto interval_start = start;
  uint64_t interval_steps = 0;

  for (uint64_t step = 0;; ++step) {
    // Metrics of step s describe the model after s updates, on batch s.
    const TokenBatch batch = data.train_batch(options.batch, rng);
    auto tokens = to_token_tensor(batch.tokens, data.sequence_length);
    auto fwd = model->forward_with_taps(tokens, train_taps);
    auto losses = next_token_losses(fwd.logits, tokens);
    auto loss = losses.mean();
    const double train_loss = loss.item<double>();
    if (!std::isfinite(train_loss)) throw std::runtime_error("training diverged at step " + std::to_string(step));

    nlohmann::json line{{"step", step}, {"tokens_seen", step * tokens_per_step}, {"train_loss", train_loss}};
    NamedScalars scalars{{"train_loss", train_loss}};
    std::ostringstream shown;
    shown << std::fixed << std::setprecision(3) << "step " << std::setw(5) << step << " loss " << train_loss;
    if (repeat) {
      const RepeatMetrics m = repeat_metrics(losses.detach(), fwd, config, to_copy_lengths(batch.copy_lengths));
      line["second_copy_loss"] = m.second_copy_loss;
      line["first_copy_loss"] = m.first_copy_loss;
      line["icl_score"] = m.icl_score;
      line["prefix_matching_max"] = m.prefix_matching_max;
      line["prefix_matching"] = m.prefix_matching;
      scalars.insert(scalars.end(), {{"second_copy_loss", m.second_copy_loss},
                                     {"first_copy_loss", m.first_copy_loss},
                                     {"icl_score", m.icl_score},
                                     {"prefix_matching_max", m.prefix_matching_max}});
      set_first(summary.second_copy_below_2, m.second_copy_loss < 2.0, step);
      set_first(summary.second_copy_below_1, m.second_copy_loss < 1.0, step);
      set_first(summary.prefix_matching_above_half, m.prefix_matching_max > 0.5, step);
      summary.final_second_copy_loss = m.second_copy_loss;
      summary.final_prefix_matching = m.prefix_matching_max;
      shown << " second-copy " << m.second_copy_loss << " icl " << m.icl_score << " prefix-match "
            << m.prefix_matching_max;
    } else if (step % options.log_every == 0 || step == options.steps || schedule.contains(step)) {
      const double probe_loss = eval_loss(model, eval_tokens);
      line["probe_loss"] = probe_loss;
      scalars.emplace_back("heldout_loss", probe_loss);
      set_first(summary.probe_below_unigram, probe_loss < data.unigram_entropy, step);
      set_first(summary.probe_within_bigram, probe_loss < data.bigram_entropy + 0.1, step);
      set_first(summary.probe_below_bigram, probe_loss < data.bigram_entropy, step);
      summary.final_probe_loss = probe_loss;
      shown << " heldout " << probe_loss << " (bigram " << data.bigram_entropy << ")";
    }
    summary.final_train_loss = train_loss;

    if (options.run_probes && schedule.contains(step)) {
      probe.snapshot(step, step * tokens_per_step, scalars, sink);
      ++summary.snapshots;
      std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_after_snapshot_ms));
    }
    line["elapsed_s"] = seconds_since(start);
    if (metrics.is_open()) metrics << line.dump() << '\n';
    if (progress && (step % options.log_every == 0 || step == options.steps)) {
      const double dt = seconds_since(interval_start);
      *progress << shown.str() << " steps/s " << std::fixed << std::setprecision(1)
                << (interval_steps > 0 && dt > 0 ? interval_steps / dt : 0.0) << std::endl;  // visible when piped
      interval_start = Clock::now();
      interval_steps = 0;
    }
    if (step == options.steps) break;

    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    ++interval_steps;
  }
  summary.steps = options.steps;
  summary.seconds = seconds_since(start);
  sink.on_finish();
  if (metrics.is_open() && !metrics.flush()) {
    throw std::runtime_error("writing metrics file '" + options.metrics_path + "' failed");
  }
  return summary;
}

void print_summary(const TrainOptions& options, const TrainSummary& s, std::ostream& out) {
  auto step_or_never = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : std::string("never"); };
  out << std::fixed << std::setprecision(3);
  out << "summary: " << options.dataset << ", " << s.steps << " steps in " << s.seconds << " s ("
      << 1000.0 * s.seconds / double(std::max<uint64_t>(s.steps, 1)) << " ms/step, " << options.threads
      << " thread(s)), " << s.snapshots << " snapshots, final train loss " << s.final_train_loss << "\n";
  if (options.dataset == "repeat") {
    out << "  second-copy loss < 2.0 first at step " << step_or_never(s.second_copy_below_2) << ", < 1.0 at step "
        << step_or_never(s.second_copy_below_1) << "; max prefix-matching > 0.5 first at step "
        << step_or_never(s.prefix_matching_above_half) << "\n";
    out << "  final second-copy loss " << s.final_second_copy_loss << " (ln vocab = "
        << std::log(double(options.repeat_vocab)) << "), final max prefix-matching " << s.final_prefix_matching
        << "\n";
  } else {
    out << "  held-out text entropies: unigram " << s.probe_unigram_entropy << ", bigram " << s.probe_bigram_entropy
        << " nats\n";
    out << "  held-out loss below unigram at step " << step_or_never(s.probe_below_unigram)
        << ", within 0.1 of bigram at step " << step_or_never(s.probe_within_bigram) << ", below bigram at step "
        << step_or_never(s.probe_below_bigram) << "; final " << s.final_probe_loss << "\n";
  }
}

}  // namespace cw
