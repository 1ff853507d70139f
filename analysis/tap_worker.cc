#include "analysis/tap_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "analysis/feature_analysis.h"
#include "analysis/feature_population.h"
#include "analysis/phase_clock.h"
#include "analysis/training_footprint.h"
#include "crosscoder/trainer_ranks.h"
#include "detect/feature_dimensionality.h"
#include "detect/entropy.h"
#include "schema/unix_time.h"
#include "store/analysis_tables.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

// The steady clock's now, as the count an atomic holds.
int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// "dead_features" and "dense_features" are the fractions' old names, still
// written for readers of `conceptwatch crosscoder --json` that use them.
nlohmann::json metrics_json(const SnapshotMetrics& m) {
  nlohmann::json json = {{"explained_variance", m.explained_variance},
          {"l0", m.l0},
          {"dead_fraction", m.dead_fraction},
          {"dense_fraction", m.dense_fraction},
          {"dead_features", m.dead_fraction},
          {"dense_features", m.dense_fraction},
          {"mse", m.mse}};
  if (m.held_out_rows > 0) {
    json["held_out_rows"] = m.held_out_rows;
    json["held_out_explained_variance"] = m.held_out_explained_variance;
    json["held_out_explained_variance_se"] = m.held_out_explained_variance_se;
    json["held_out_l0"] = m.held_out_l0;
    json["memorised"] = memorised(m);
  }
  return json;
}

}  // namespace

TapWorker::TapWorker(Store& store, std::string run, std::string tap, const AnalysisConfig& config,
                     MemoryBudget& memory, Emit emit, TrainerRanks* ranks)
    : store_(store),
      run_(std::move(run)),
      tap_(std::move(tap)),
      config_(config),
      memory_(memory),
      emit_(std::move(emit)),
      ranks_(ranks),
      last_busy_ns_(now_ns()) {
  status_ = {{"run", run_}, {"tap", tap_}, {"state", "starting"}, {"snapshots", 0}, {"backlog", 0}};
}

void TapWorker::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  status_["state"] = "queued";
}

nlohmann::json TapWorker::status() const {
  nlohmann::json out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = status_;
  }
  out["refine_steps_left"] = refine_steps_left();
  return out;
}

int64_t TapWorker::refine_steps_left() const { return std::max<int64_t>(0, refine_steps_left_.load()); }

void TapWorker::arrived() {
  last_busy_ns_ = now_ns();
  arrived_ = true;
}

bool TapWorker::refine_due() const {
  if (refine_steps_left() == 0) return false;
  const auto idle = std::chrono::steady_clock::duration(now_ns() - last_busy_ns_.load());
  return std::chrono::duration<double>(idle).count() >= config_.refine_after_idle_seconds;
}

bool TapWorker::retry_due() const {
  const int64_t failed = rank_failed_ns_.load();
  return failed > 0 && now_ns() - failed > int64_t(1e9);
}

TapBrief TapWorker::brief() const {
  std::lock_guard<std::mutex> lock(mu_);
  TapBrief out{run_, tap_, status_.value("state", ""), "", status_.value("snapshots", uint64_t(0)),
               status_.value("backlog", uint64_t(0)), status_.value("memory_bytes", uint64_t(0)),
               uint64_t(refine_steps_left())};
  // "error" outlives the failed turn in status_; it needs attention only
  // while the state says so.
  if (out.state == "error" || out.state == "over memory cap") out.error = status_.value("error", "");
  return out;
}

void TapWorker::run_turn(const std::atomic<bool>& stop) {
  stop_ = &stop;
  arrived_ = false;  // what arrives from now on is not in the listing below
  try {
    turn(SnapshotTable(store_).list(run_, tap_));
    rank_failed_ns_ = 0;
  } catch (const TrainerRanksError& e) {
    // Nothing is lost: the snapshots are stored, the state is the last
    // saved one; retried (retry_due) until the ranks are back.
    spdlog::error("crosscoder {}/{}: update failed, retried from the stored state in a second: {}", run_, tap_,
                  e.what());
    recovered_ = false;
    rank_failed_ns_ = now_ns();
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "error";
    status_["error"] = e.what();
    status_["rank_failures"] = status_.value("rank_failures", 0) + 1;
  } catch (const std::exception& e) {
    spdlog::error("crosscoder {}/{}: update failed: {}", run_, tap_, e.what());
    // The monitor may have seen snapshots the stored state lacks: the next
    // turn starts from the store, as a restarted daemon would.
    recovered_ = false;
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "error";
    status_["error"] = e.what();
  }
  crosscoder_.reset();  // evicted until the next turn: the store holds its state
  rows_.reset();
  MemoryBudget::give_back_freed_memory();
}

void TapWorker::turn(const std::vector<SnapshotMeta>& stored) {
  const auto newer = [&](const SnapshotMeta& m) { return m.key.step > steps_.back(); };
  const bool fresh = !recovered_ || steps_.empty() || std::any_of(stored.begin(), stored.end(), newer);
  if (!stored.empty() && !fresh && recovered_ && !steps_.empty() && refine_due()) {
    refine(stored);
    return;
  }
  if (stored.empty() || !fresh) {
    // Task arrays that came after the update: attribution needs the
    // weights only.
    if (recovered_ && !steps_.empty() && options_ && attribution_.behind(steps_)) {
      const uint64_t bytes = state_footprint(*options_, int64_t(steps_.size()));
      auto lease = reserve(bytes, "state " + std::to_string(bytes) + " bytes");
      if (!lease) return;
      load(/*with_activations=*/false);
      if (crosscoder_) refresh_attribution(/*all=*/false);
    }
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "idle";
    return;
  }
  // The crosscoder after this update holds every stored snapshot (the
  // first turn cannot know yet how many the stored state has: all, at most).
  std::size_t heads = stored.size();
  if (recovered_ && !steps_.empty() && !fresh_start_) {
    heads = steps_.size();
    for (const auto& m : stored) heads += m.key.step > steps_.back();
  }
  auto lease = reserve_training(stored, heads);
  if (!lease) return;
  const auto start = std::chrono::steady_clock::now();
  if (!recovered_) {
    recover();
    recovered_ = true;
  } else {
    load(/*with_activations=*/true);
  }
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  update(stored);
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.value("state", "") == "loading") status_["state"] = "idle";  // nothing was new
}

std::optional<MemoryBudget::Lease> TapWorker::reserve_training(const std::vector<SnapshotMeta>& stored,
                                                               std::size_t heads) {
  const CrosscoderOptions options = options_ ? *options_ : crosscoder_options_for(config_, stored.front().d_model);
  // Everything in memory when it fits the cap (as fast as it gets);
  // otherwise streamed: rows read from the row files when a batch or an
  // analysis chunk needs them. Refused only when even that exceeds the cap.
  TrainingFootprint footprint = training_footprint(options, int64_t(heads), stored.front().n_tokens);
  if (footprint.total() > memory_.cap())
    footprint = training_footprint(options, int64_t(heads), stored.front().n_tokens, /*streamed=*/true);
  stream_ = footprint.streamed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_["streamed"] = stream_;
  }
  return reserve(footprint.total(), footprint.describe());
}

void TapWorker::refine(const std::vector<SnapshotMeta>& stored) {
  auto lease = reserve_training(stored, steps_.size());
  if (!lease) return;
  const auto start = std::chrono::steady_clock::now();
  load(/*with_activations=*/true);
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!crosscoder_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "refining";
  }
  PhaseClock clock;
  // Trained one update's budget at a time (whole budgets: the time cap, not
  // the steps, ends most of them, and a share of one would take a share of
  // its seconds too), so that a snapshot arriving waits at most one budget;
  // ten per turn, so that the turn's load, analysis and save (4-5 s at the
  // demo's 78 heads) stay a small part of it and other taps get turns.
  constexpr int kBudgetsPerTurn = 10;
  TrainReport report;
  report.joined = crosscoder_->join_handovers();
  for (int budget = 0; budget < kBudgetsPerTurn && refine_steps_left_ > 0 && !arrived_ && !*stop_; ++budget) {
    const TrainReport part = crosscoder_->train_between_arrivals(1.0, stop_, ranks_);
    if (budget == 0) report.first_loss = part.first_loss;
    report.last_loss = part.last_loss;
    report.steps += part.steps;
    report.seconds += part.seconds;
    refine_steps_left_ -= std::max<int64_t>(1, part.steps);
    if (part.interrupted) return;  // the daemon is stopping: the stored state stays the last complete one
  }
  if (report.steps == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "idle";
    return;
  }
  clock.lap("training");
  finish_update({}, report, clock, start);
}

std::optional<MemoryBudget::Lease> TapWorker::reserve(uint64_t bytes, const std::string& breakdown) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_["memory_bytes"] = bytes;
    if (bytes > memory_.cap()) {
      const std::string why = "its update needs " + std::to_string(bytes) + " bytes of memory (" + breakdown +
                              "), more than the [analysis] memory_cap_bytes " +
                              std::to_string(memory_.cap()) +
                              ": raise the cap, or give the tap fewer features or fewer snapshots";
      if (status_.value("state", "") != "over memory cap")
        spdlog::warn("crosscoder {}/{}: not trained: {}", run_, tap_, why);
      status_["state"] = "over memory cap";
      status_["error"] = why;
      return std::nullopt;
    }
    status_["state"] = "waiting for memory";
  }
  auto lease = memory_.reserve(bytes, *stop_);
  std::lock_guard<std::mutex> lock(mu_);
  status_["state"] = "loading";
  return lease;
}

void TapWorker::load(bool with_activations) {
  crosscoder_.reset();
  if (fresh_start_) return;  // the unloadable state is still the stored one
  const auto state = CrosscoderStateTable(store_).get(run_, tap_);
  if (!state) return;
  crosscoder_ = std::make_unique<Crosscoder>(Crosscoder::deserialize(*state));
  steps_ = crosscoder_->steps();
  options_ = crosscoder_->options();
  if (with_activations) restore_activations();
}

void TapWorker::restore_activations() {
  SnapshotTable snapshots(store_);
  const auto steps = crosscoder_->steps();
  if (stream_) rows_ = std::make_shared<StoredRows>(store_);
  for (std::size_t t = 0; t < steps.size(); ++t) {
    auto meta = snapshots.meta({run_, tap_, steps[t], ArrayKind::kProbeActivations, ""});
    if (!meta) throw std::runtime_error("snapshot at step " + std::to_string(steps[t]) + " is missing");
    if (rows_) {
      rows_->append(*meta);
    } else {
      crosscoder_->restore_activations(int64_t(t), snapshots.read_f32(*meta).data(), meta->n_tokens);
    }
  }
  if (rows_) crosscoder_->stream_from(rows_);
}

std::string TapWorker::keep_unloadable_state() const {
  try {
    const auto state = CrosscoderStateTable(store_).get(run_, tap_);
    if (!state) return "";
    const auto dir = std::filesystem::path(store_.dir()) / "unloadable-crosscoder-states";
    std::filesystem::create_directories(dir);
    const uint64_t ms = unix_now_ms();
    const auto path = dir / (run_ + "." + tap_ + "." + std::to_string(ms) + ".state");
    std::ofstream out(path, std::ios::binary);
    out.write(state->data(), static_cast<std::streamsize>(state->size()));
    return out ? path.string() : "";
  } catch (const std::exception& e) {
    spdlog::error("crosscoder {}/{}: could not keep the unloadable state: {}", run_, tap_, e.what());
    return "";
  }
}

void TapWorker::recover() {
  try {
    recover_history();
  } catch (const std::exception& e) {
    // Starting afresh re-adds every stored snapshot; the state that would
    // not load is kept beside the store first, since the next save
    // overwrites it (e.g. one saved with `device = "cuda"`, read where there
    // is no CUDA: restart with that device to resume it instead).
    const std::string kept = keep_unloadable_state();
    spdlog::error("crosscoder {}/{}: cannot resume from the store ({}); starting afresh from the stored snapshots{}",
                  run_, tap_, e.what(), kept.empty() ? "" : "; the old state is kept in " + kept);
    crosscoder_.reset();
    steps_.clear();
    fresh_start_ = true;
    if (!monitor_) monitor_ = std::make_unique<TapMonitor>(run_, tap_, config_.monitor, std::nullopt, emit_);
    std::lock_guard<std::mutex> lock(mu_);
    status_["resume_error"] = e.what();
    if (!kept.empty()) status_["unloadable_state"] = kept;
  }
}

void TapWorker::recover_history() {
  monitor_.reset();
  series_.clear();
  unsettled_.clear();
  newest_mse_ = NAN;
  crosscoder_.reset();
  RunCatalog catalog(store_);
  if (auto probe = catalog.probe(run_)) {
    probe_tokens_ = probe->token_ids;
    std::optional<std::pair<double, double>> entropies;
    if (probe->sequence_length > 0 && !probe->token_ids.empty()) {
      const ProbeEntropy entropy = probe_entropy(probe->token_ids, probe->sequence_length);
      if (entropy.unigram_corrected > 0 && entropy.bigram_corrected > 0)
        entropies = std::make_pair(entropy.unigram_corrected, entropy.bigram_corrected);
    }
    monitor_ = std::make_unique<TapMonitor>(run_, tap_, config_.monitor, entropies, emit_);
  } else {
    monitor_ = std::make_unique<TapMonitor>(run_, tap_, config_.monitor, std::nullopt, emit_);
  }
  for (const auto& event : EventLog(store_).list(run_)) {
    if (event.value("tap", "") == tap_) monitor_->remember(event);
  }
  load(/*with_activations=*/true);
  if (!crosscoder_) return;
  // A refinement the daemon stopped in the middle of goes on from where the
  // saved state left it (none for a state saved before that was kept).
  const int64_t refined = crosscoder_->steps_since_update();
  refine_steps_left_ = refined < 0 ? 0 : std::max<int64_t>(0, config_.refine_steps - refined);
  last_busy_ns_ = now_ns();
  const auto steps = crosscoder_->steps();
  // The detectors learn the history again without raising its events twice.
  for (const auto& [step, metrics] : MetricsTable(store_).list(run_, tap_)) {
    newest_mse_ = metrics.value("mse", double(NAN));
    if (!metrics.contains("series")) continue;
    series_[step] = metrics["series"];
    // Steps still waiting for their feature series get them after the next
    // update (and are observed then, when they are watched), as if the
    // daemon had not stopped.
    if (!metrics["series"].contains("settled_at_step")) {
      unsettled_.push_back(step);
      if (monitor_->watches_features()) continue;
    }
    std::map<std::string, double> values;
    for (const auto& [name, value] : metrics["series"].items())
      if (value.is_number()) values[name] = value.get<double>();
    monitor_->observe_snapshot(step, values, /*replay=*/true);
  }
  spdlog::info("crosscoder {}/{}: resumed with {} snapshots", run_, tap_, steps.size());
  std::lock_guard<std::mutex> lock(mu_);
  status_["snapshots"] = steps.size();
  status_["state"] = "idle";
}

bool TapWorker::update(const std::vector<SnapshotMeta>& stored) {
  SnapshotTable snapshots(store_);
  const uint64_t last = crosscoder_ && crosscoder_->n_snapshots() > 0 ? crosscoder_->steps().back() : 0;
  const bool empty = !crosscoder_ || crosscoder_->n_snapshots() == 0;
  std::vector<SnapshotMeta> fresh;
  for (const auto& meta : stored) {
    if (empty || meta.key.step > last) fresh.push_back(meta);
  }
  if (fresh.empty()) {
    if (crosscoder_) refresh_attribution(/*all=*/false);
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_["backlog"] = fresh.size();
  }
  if (*stop_) return false;
  const auto start = std::chrono::steady_clock::now();
  if (!crosscoder_) {
    const CrosscoderOptions options = crosscoder_options_for(config_, fresh.front().d_model);
    crosscoder_ = std::make_unique<Crosscoder>(options);
    spdlog::info("crosscoder {}/{}: {} features over d_model {}", run_, tap_, options.n_features, options.d_model);
    const int64_t tokens = int64_t(fresh.front().n_tokens);
    if (tokens < kEnoughProbeTokensPerDimension * options.d_model)
      spdlog::warn(
          "crosscoder {}/{}: the probe set's {} tokens are under {} per dimension of d_model {} ({}): there the "
          "crosscoder was seen memorising the probe set (docs/CROSSCODER.md \"The probe set is memorised below 32 "
          "tokens per dimension\"); `conceptwatch crosscoder` shows the held-out rows' explained variance",
          run_, tap_, tokens, kEnoughProbeTokensPerDimension, options.d_model,
          kEnoughProbeTokensPerDimension * options.d_model);
  }
  if (stream_ && !crosscoder_->streamed()) {
    rows_ = std::make_shared<StoredRows>(store_);
    crosscoder_->stream_from(rows_);
  }
  PhaseClock clock;
  std::vector<uint64_t> new_steps;
  // The surprise ratio's reference, for every snapshot of a backlog: the
  // newest snapshot's error after the last update (the training between a
  // backlog's snapshots evaluates none).
  const double previous_mse = newest_mse_;
  std::vector<Scalars> scalars;
  std::vector<Crosscoder::Arrival> arrivals;
  for (const auto& meta : fresh) {
    if (*stop_) return false;  // the daemon is stopping: the store keeps these for the restart
    if (rows_) {
      rows_->append(meta);
      crosscoder_->add_streamed_snapshot(meta.key.step);
    } else {
      crosscoder_->add_snapshot(meta.key.step, snapshots.read_f32(meta).data(), meta.n_tokens);
    }
    new_steps.push_back(meta.key.step);
    scalars.push_back(meta.scalars);
    // Each snapshot of a backlog is measured against heads trained on the
    // one before it: measured together, the later ones missed what the model
    // learned since the last update's newest snapshot, and at start-up two
    // of them read as a transition (docs/CROSSCODER.md "Backlogs measured
    // one snapshot at a time").
    for (const auto& arrival : crosscoder_->measure_arrivals()) arrivals.push_back(arrival);
    if (new_steps.size() < fresh.size()) crosscoder_->train_between_arrivals(1.0 / double(fresh.size()), stop_, ranks_);
  }
  if (*stop_) return false;
  clock.lap("arrivals");
  // Everything the detectors watch by default is known now: raise the
  // events before training, so an alert does not wait for the update.
  const bool observe_now = !monitor_->watches_features();
  // The share of the snapshot before the first new one, as stored with it.
  double previous_share = NAN;
  if (const auto before = series_.lower_bound(new_steps.front()); before != series_.begin()) {
    const nlohmann::json& stored = std::prev(before)->second;
    if (const auto it = stored.find("surprise_share"); it != stored.end() && it->is_number())
      previous_share = it->get<double>();
  }
  for (std::size_t i = 0; i < new_steps.size(); ++i) {
    const auto values =
        monitor_->arrival_values(arrivals[i].mse, arrivals[i].energy, previous_mse, previous_share, scalars[i]);
    previous_share = values.at("surprise_share");
    if (observe_now) {
      series_[new_steps[i]] = monitor_->observe_snapshot(new_steps[i], values);
    } else {
      series_[new_steps[i]] = nlohmann::json(values);  // observed with its feature series
    }
    unsettled_.push_back(new_steps[i]);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_["state"] = "training";
    status_["snapshots"] = crosscoder_->n_snapshots();
    status_["backlog"] = 0;
  }
  const TrainReport report = crosscoder_->train(
      [this](int64_t step, double loss) {
        std::lock_guard<std::mutex> lock(mu_);
        status_["train_step"] = step;
        status_["train_loss"] = loss;
      },
      stop_, ranks_);
  clock.lap("training");
  if (report.interrupted) {
    spdlog::info("crosscoder {}/{}: update interrupted after {} steps; resumes from the last saved state", run_, tap_,
                 report.steps);
    return false;
  }
  finish_update(new_steps, report, clock, start);
  last_busy_ns_ = now_ns();
  refine_steps_left_ = config_.refine_steps;
  return true;
}

void TapWorker::finish_update(const std::vector<uint64_t>& new_steps, const TrainReport& report, PhaseClock& clock,
                              std::chrono::steady_clock::time_point start) {

  // Analysis of the refined crosscoder, then events for the new snapshots.
  const FeatureStats stats = crosscoder_->feature_stats(config_.top_k, &probe_tokens_);
  const auto steps = crosscoder_->steps();
  const FeatureAnalysis analysis = analyse_features(stats, steps, config_.monitor.emergence);
  TrajectoryTable(store_).put(run_, tap_, analysis.trajectories);
  monitor_->forget_features(report.recruited_features);
  monitor_->observe_features(analysis, steps.back());
  settle_feature_series(analysis, steps);
  clock.lap("analysis");
  refresh_attribution(/*all=*/true);
  clock.lap("attribution");
  save(new_steps, report);
  clock.lap("save");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The histogram is of updates that took in snapshots (how far the
    // daemon trails the job); a refinement only uses idle time.
    if (!new_steps.empty()) update_seconds_.observe(seconds);
    status_["update_seconds"] = update_seconds_.to_json();  // /metrics: conceptwatch_crosscoder_update_seconds
    status_["last_update"]["phase_seconds"] = clock.seconds();
  }
  if (new_steps.empty()) {
    spdlog::info("crosscoder {}/{}: refined over {} snapshots, {} joined, {} steps in {:.1f} s ({}), loss {:.4g} -> "
                 "{:.4g}, {} faded rows silenced, {} refinement steps left",
                 run_, tap_, steps.size(), report.joined, report.steps, seconds, clock.text(), report.first_loss,
                 report.last_loss, report.silenced, refine_steps_left());
    return;
  }
  spdlog::info(
      "crosscoder {}/{}: +{} snapshots (now {}), {} merged, {} joined, {} folded, {} split, {} recruited, {} steps in "
      "{:.1f} s ({}), loss {:.4g} -> {:.4g}, {} faded rows silenced",
      run_, tap_, new_steps.size(), steps.size(), report.merged, report.joined, report.folded, report.split,
      report.recruited, report.steps, seconds, clock.text(), report.first_loss, report.last_loss, report.silenced);
}

void TapWorker::settle_feature_series(const FeatureAnalysis& analysis, const std::vector<uint64_t>& steps) {
  const PopulationSeries population = population_series(analysis, config_.monitor.emergence.threshold);
  std::vector<double> dimensionality(steps.size());
  for (std::size_t t = 0; t < steps.size(); ++t)
    dimensionality[t] = feature_dimensionality_rate(crosscoder_->decoder_directions(int64_t(t)),
                                                    crosscoder_->options().n_features, crosscoder_->options().d_model);
  if (spdlog::should_log(spdlog::level::debug)) {
    // The whole retrospective picture after this update, for replaying the
    // detector offline on how the series move as dates are revised.
    nlohmann::json all = {{"run", run_},
                          {"tap", tap_},
                          {"latest_step", steps.back()},
                          {"steps", steps},
                          {"flicker", population.flicker},
                          {"dimensionality_rate", dimensionality},
                          {"emergence_share", population.emergence_share},
                          {"fading_share", population.fading_share},
                          {"new_mass_share", population.new_mass_share},
                          {"turnover", population.turnover}};
    spdlog::debug("feature population: {}", all.dump());
  }
  const bool observe = monitor_->watches_features();
  const std::size_t lag = monitor_->population_lag();
  std::size_t settled = 0;
  // The snapshots settled here are known at once: a transition is raised
  // once, with the feature series that joined it among them.
  monitor_->hold_events();
  try {
    for (const uint64_t step : unsettled_) {
      const auto at = std::lower_bound(steps.begin(), steps.end(), step);
      if (at == steps.end() || *at != step) throw std::logic_error("unsettled step " + std::to_string(step) + " unknown");
      const std::size_t index = std::size_t(at - steps.begin());
      if (index + lag >= steps.size()) break;
      nlohmann::json& stored = series_[step];
      for (const auto& [name, value] : TapMonitor::feature_values(analysis, population, dimensionality, index))
        stored[name] = value;
      stored["settled_at_step"] = steps.back();
      if (observe) {
        std::map<std::string, double> values;
        for (const auto& [name, value] : stored.items())
          if (value.is_number() && name != "settled_at_step") values[name] = value.get<double>();
        stored = monitor_->observe_snapshot(step, values, /*replay=*/false, steps.back());
        stored["settled_at_step"] = steps.back();
      }
      ++settled;
    }
  } catch (...) {
    monitor_->release_events();
    throw;
  }
  monitor_->release_events();
  unsettled_.erase(unsettled_.begin(), unsettled_.begin() + std::ptrdiff_t(settled));
  // The newest update's flicker, with the newest snapshot (`crosscoder` shows it).
  nlohmann::json& newest = series_[steps.back()];
  newest["flicker"] = population.flicker;
  newest["flickering_features"] = population.flickering;
  newest["live_features"] = population.live;
  newest["returned_share"] = population.returned_share;
  newest["returned_features"] = population.returned;
}

void TapWorker::refresh_attribution(bool all) {
  if (all) {
    attribution_.update(*crosscoder_);
  } else {
    attribution_.catch_up(*crosscoder_);
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_["attribution"] = attribution_.status();
}

void TapWorker::save(const std::vector<uint64_t>& new_steps, const TrainReport& report) {
  const auto metrics = crosscoder_->evaluate();
  std::vector<std::pair<uint64_t, nlohmann::json>> by_step;
  for (const auto& m : metrics) {
    nlohmann::json json = metrics_json(m);
    if (auto it = series_.find(m.step); it != series_.end()) json["series"] = it->second;
    by_step.emplace_back(m.step, std::move(json));
  }
  MetricsTable(store_).put(run_, tap_, by_step);
  TransitionTable(store_).put(run_, tap_, monitor_->transitions_json());
  CrosscoderStateTable(store_).put(run_, tap_, crosscoder_->serialize());
  steps_ = crosscoder_->steps();
  options_ = crosscoder_->options();
  fresh_start_ = false;
  std::lock_guard<std::mutex> lock(mu_);
  status_["state"] = "idle";
  status_["last_update"] = {{"new_steps", new_steps},
                            {"refinement", new_steps.empty()},
                            {"train_steps", report.steps},
                            {"seconds", report.seconds},
                            {"load_seconds", load_seconds_},
                            {"tokens_per_second", report.tokens_per_second},
                            {"first_loss", report.first_loss},
                            {"loss", report.last_loss},
                            {"merged", report.merged},
                            {"joined", report.joined},
                            {"folded", report.folded},
                            {"split", report.split},
                            {"recruited", report.recruited},
                            {"silenced", report.silenced}};
  if (!metrics.empty()) status_["latest"] = metrics_json(metrics.back());
  const bool memorising = !metrics.empty() && memorised(metrics.back());
  if (memorising && !memorising_)
    spdlog::warn(
        "crosscoder {}/{}: memorising the probe set: explained variance {:.3f} on the held-out rows, {:.3f} on the "
        "rows it trains on (L0 {:.1f} against {:.1f}); its features and dates are not to be trusted until the probe "
        "set has more tokens",
        run_, tap_, metrics.back().held_out_explained_variance, metrics.back().explained_variance,
        metrics.back().held_out_l0, metrics.back().l0);
  // Said too, since an update can read memorised for a while: the demo's
  // did once, at the update that took in its transition (0.15 against 0.41
  // on the newest snapshot), and not from the next update on.
  if (!memorising && memorising_)
    spdlog::info("crosscoder {}/{}: no longer memorising the probe set: explained variance {:.3f} on the held-out "
                 "rows, {:.3f} on the rows it trains on",
                 run_, tap_, metrics.back().held_out_explained_variance, metrics.back().explained_variance);
  memorising_ = memorising;
  if (!metrics.empty()) newest_mse_ = metrics.back().mse;
}

}  // namespace cw
