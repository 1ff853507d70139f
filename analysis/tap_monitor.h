// Watches one (run, tap) for events: feature emergence, fading and
// re-emergence, phase transitions in the aggregate series, and the paper's
// training phases from the loss against the probe's entropies. Each event is
// raised once, as a JSON object, and keeps the values it had when raised.
#ifndef CW_ANALYSIS_TAP_MONITOR_H_
#define CW_ANALYSIS_TAP_MONITOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analysis/feature_analysis.h"
#include "analysis/feature_population.h"
#include "detect/phase.h"
#include "detect/transition_detector.h"

namespace cw {

struct MonitorOptions {
  EmergenceOptions emergence;
  TransitionOptions transitions;
  // Crosscoder series the transition detector watches (others are stored
  // only): the feature signals. Scale-free forms, so that a young crosscoder
  // (whose error shrinks and whose dictionary compresses as it learns) does
  // not look like a transition:
  //  - "log_dimensionality_rate": log of the feature-dimensionality rate
  //    (detect/feature_dimensionality.h), rises only: a fresh dictionary
  //    starts near random (rate 0.72 for 256 features in d_model 64) and
  //    compresses as it learns (to 0.05 on tinygpt by step 200), which is not
  //    a transition; the expansion after it is (see min_move);
  //  - "new_mass_share": the share of the snapshot's feature activity carried
  //    by features whose emergence is dated there (analysis/
  //    feature_population.h), a spike: a mass emergence is most of it.
  // Feature counts ("features_alive_share") are not watched: they follow
  // the crosscoder's own dynamics (its start-up collapse, latents recruited
  // and dying) as much as the model's, and raised transitions on a
  // stationary control (tests/analysis). "mean_direction_change" neither:
  // on tinygpt it rises from 0.00 to 0.25-0.4 over the crosscoder's first
  // snapshots (steps 64-100, nothing happens to the model there) about as
  // much as during the induction transition (0.2 to 0.5-0.7). "turnover"
  // neither: 0.2-0.35 at most snapshots of tinygpt (0.5 at steps 60-100),
  // no higher at the transition. "emergence_share" (the share of live
  // features whose emergence is dated at a snapshot, analysis/
  // feature_population.h) neither: a fresh crosscoder dates a quarter of
  // its features at snapshot 1 (0.27 on the planted mass-emergence stream
  // of tests/analysis, read a snapshot late), more than the mass emergence
  // itself (0.10 there, 12 of 32 atoms switching on); on tinygpt it stayed
  // at 0.06 or less. "new_mass_share" weighs those features by their
  // activity, and a fresh crosscoder's first dates carry little of it.
  //  - "sustained_surprise_share": the smaller of the last two snapshots'
  //    surprise shares (surprise / the snapshot's E‖x‖²: the share of a new
  //    snapshot the dictionary missed as it arrived), a spike: new
  //    directions the residual stream keeps growing faster than the
  //    crosscoder learns them (tinygpt's induction transition: 0.73-1.32
  //    within two snapshots of the loss drop on ten runs, at most 0.40
  //    before). Two snapshots, not one: while the crosscoder trails training
  //    at start-up, several snapshots arrive per update and, measured
  //    together, one of them missed 0.74 alone (docs/CROSSCODER.md
  //    "Transitions the dictionary misses"). Since a backlog is measured one
  //    snapshot at a time (Crosscoder::train_between_arrivals) the share
  //    before the transition stays at 0.10-0.20 and peaks at 0.82-0.96 at it
  //    (14 runs, docs/CROSSCODER.md "Backlogs measured one snapshot at a
  //    time"); the pair is kept as margin.
  // "surprise_ratio" (surprise over the previous snapshot's trained error)
  // no longer: on tinygpt it spiked at start-up on 2 of 10 runs, and every
  // planted mass emergence it flagged new_mass_share flags too.
  std::vector<std::string> series = {"new_mass_share", "log_dimensionality_rate", "sustained_surprise_share"};
  // Watched series whose moves join a transition another series raised but
  // never raise one alone (SeriesOptions::joins_only). "log_dimensionality_rate":
  // on every stored run where a transition was right (the mass emergences
  // of 16 planted streams of bench/science: new_mass_share; tinygpt's
  // induction transition on 35 runs: sustained_surprise_share) another
  // series flagged it; alone it raised only false ones, late
  // in tinygpt runs and with nothing in the job's scalars: at 680 on seed 15
  // at d_model 112 (the rate ×2.3 between two heads added by one backlog
  // update of 9 snapshots, 31 latents folded and 26 recruited), at 680 on a
  // 720-step one-layer run (docs/CROSSCODER.md "A series that only joins").
  std::vector<std::string> joining_only = {"log_dimensionality_rate"};
  // Snapshot t's feature series are read from the analysis after the update
  // that added snapshot t + population_lag: emergence dates move while
  // they are the newest snapshots (FeatureAnalysis is retrospective).
  std::size_t population_lag = 1;
  // When "features_alive_share" is watched: a move smaller than this share
  // of the dictionary is noise.
  double features_alive_share_floor = 0.05;
  // When "surprise_ratio" is watched: a newest snapshot this many times
  // harder to reconstruct than the one before it is a transition by itself. Measured on
  // planted data: ~1.0-1.2 on a stationary stream, 2-5 when one feature is
  // born, ~50 when a third of the features are born at once; on tinygpt
  // 2-5 over steps 32-120 and a 9.2 at step 140 (the crosscoder's own
  // early dictionary, nothing visible in the job's losses), so 8 raised a
  // spurious transition there.
  double surprise_ratio_alarm = 16;
  // A value at or above this is a transition by itself (SeriesOptions::
  // spike_above), for series that show a change as a one-snapshot burst.
  // "new_mass_share" 0.35, set on the science benchmark's tune streams
  // (bench/science): at the planted mass emergence 0.41 and 0.79, at
  // every other snapshot 0.27 or less (the crosscoder's first dates, at
  // snapshot 1); the held-out streams are in docs/CROSSCODER.md
  // ("Transitions in the features"). On tinygpt it is 0 to 0.01.
  // "sustained_surprise_share" 0.5: on the ten tinygpt runs of
  // bench/science/tinygpt_seeds.sh (tune) at most 0.40 before the
  // transition (start-up) and 0.73-1.32 at it; on the planted streams a mass
  // emergence on a stable population is one snapshot of 0.69-0.74 (the next
  // ~0.1, so the sustained share stays low: new_mass_share flags those).
  std::map<std::string, double> spike_above = {
      {"emergence_share", 0.1}, {"new_mass_share", 0.35}, {"sustained_surprise_share", 0.5}};
  // ... and a spike must be at least this many times the series' level just
  // before it (SeriesOptions::spike_over_level). Early in training
  // everything moves and the surprise ratio stays high for many snapshots:
  // tinygpt (repeat task, seeds 0-4 at d_model 64, 0-2 at 128) spiked to
  // 17-35 at steps 64-120, 2.3-4.6 times the median of the eight ratios
  // before (5-9), with nothing in the job's losses.
  // "sustained_surprise_share" 3: a dictionary that never explained the
  // stream (a planted stream's structureless first snapshots, 0.4-0.8)
  // has no transition when the share stays there; the tinygpt transitions
  // are 4-6 times the level before.
  std::map<std::string, double> spike_over_level = {{"surprise_ratio", 8}, {"sustained_surprise_share", 3}};
  // Mean 1 − cos of the present features' directions: moves below this are noise.
  double direction_change_floor = 0.05;
  // Job scalars watched too, when snapshots carry them.
  std::vector<std::string> scalar_series = {"train_loss",  "loss",      "heldout_loss",       "probe_loss",
                                            "second_copy_loss", "icl_score", "prefix_matching_max"};
  // The smallest move of a watched series that is a phase transition
  // (TransitionDetector, SeriesOptions::min_move), by series name. A series
  // not listed whose name ends in "loss" gets `loss_min_move`; others 0 (any
  // move the detectors find). Training curves are smooth: the detectors
  // find their every bend (a 0.01-nat wobble of a loss is 3-4 noise sds on
  // tinygpt), so the floor is what separates a transition from a bend.
  // "log_dimensionality_rate" log 2 (the rate doubles): on tinygpt (seed 0,
  // d_model 64, 150 crosscoder steps per update) the rate went from 0.05
  // before the induction transition to 0.13-0.19 after it (log +1.0), and
  // rose at most ×1.25 during the crosscoder's start-up (0.39 -> 0.48).
  std::map<std::string, double> min_move = {
      {"icl_score", 0.25}, {"prefix_matching_max", 0.1}, {"mean_direction_change", 0.25},
      {"features_alive_share", 0.1}, {"log_dimensionality_rate", 0.69}};
  double loss_min_move = 0.25;  // nats
  // Scalar holding the training loss in nats, for the phase labels.
  // Held-out losses first: a training batch's loss is noisier (0.03-0.05
  // nats on tinygpt's KJV batches) and the band around each entropy is 2%.
  std::vector<std::string> loss_scalars = {"heldout_loss", "probe_loss", "train_loss", "loss"};  // first present wins
  // A transition's alert resolves after this many snapshots without a new move.
  std::size_t resolve_after = 8;
};

class TapMonitor {
 public:
  using Emit = std::function<void(const nlohmann::json& event)>;

  // Entropies of the probe set (nats), or nullopt when unknown.
  TapMonitor(std::string run, std::string tap, MonitorOptions options, std::optional<std::pair<double, double>> entropies,
             Emit emit);

  // Events already in the log (after a restart): they are not raised again.
  void remember(const nlohmann::json& event);

  // One snapshot's series values, in step order. With `replay` the detectors
  // learn but nothing is emitted (the log already holds those events).
  // Returns this snapshot's values, as stored with its metrics.
  // `known_at_step`: the newest snapshot when the values were read (later
  // than `step` for the feature series, MonitorOptions::population_lag);
  // events say it as "raised_at_step". 0: `step` itself.
  nlohmann::json observe_snapshot(uint64_t step, const std::map<std::string, double>& values, bool replay = false,
                                  uint64_t known_at_step = 0);

  // Snapshots observed between hold_events() and release_events() (one
  // update's backlog, all known at once) emit their events at the release,
  // in order, except that a transition raised there on the scalars alone
  // and joined by a feature series there too is raised once, as it stands
  // at the release (with its feature series), with no follow-up. Call
  // release_events() on every path out, errors included: the held events
  // are already marked raised.
  void hold_events();
  void release_events();

  // After each crosscoder update: raises feature events not raised before
  // (once per feature and kind: a refined history is re-dated, not new).
  void observe_features(const FeatureAnalysis& analysis, uint64_t latest_step);
  // Features recruitment gave a new direction (TrainReport::recruited_features):
  // their events are a new feature's and are raised again. Call before
  // observe_features for the same update.
  void forget_features(const std::vector<int64_t>& features);

  // The series values known when a snapshot is added, before the update
  // trains on it: its surprise, the surprise ratio and the job's scalars.
  // `energy`: the snapshot's E‖x‖² on the crosscoder's scale (the share is
  // surprise / energy). `previous_mse`: the crosscoder's error on the
  // snapshot before, after the update that trained on it (0 for the first
  // snapshot). `previous_share`: the snapshot before's "surprise_share"
  // (NaN when unknown).
  std::map<std::string, double> arrival_values(double surprise, double energy, double previous_mse,
                                               double previous_share,
                                               const std::vector<std::pair<std::string, double>>& scalars) const;
  // The feature series of snapshot `index`, from the analysis after an
  // update: the aggregates, the population series and the dimensionality
  // rate (dimensionality[index]).
  static std::map<std::string, double> feature_values(const FeatureAnalysis& analysis,
                                                      const PopulationSeries& population,
                                                      const std::vector<double>& dimensionality, std::size_t index);
  // (Their names: analysis/watchable_series.h.)
  // Whether a watched series is a feature series: then snapshot t is
  // observed once the update covering snapshot t + population_lag is done,
  // and alerts wait for it, instead of being raised as the snapshot is added.
  bool watches_features() const;
  std::size_t population_lag() const { return options_.population_lag; }
  // Whether a series is one of the job's scalars (else the crosscoder's own).
  bool is_scalar(const std::string& series) const;

  const std::vector<Transition>& transitions() const { return detector_.transitions(); }
  // The transitions as estimated now (phase_transition events keep what was
  // known when each was raised).
  nlohmann::json transitions_json() const;
  std::optional<TrainingPhase> phase() const;

 private:
  nlohmann::json base_event(const char* type) const;
  void say(nlohmann::json event);  // emits, or holds (hold_events)
  double min_move_for(const std::string& series) const;

  nlohmann::json transition_json(const Transition& transition) const;
  // Whether one of the transition's moves is a crosscoder series.
  bool has_feature_signal(const Transition& transition) const;
  // An event of `type` about `transition` as estimated now, raised as `key`
  // at snapshot `step`.
  nlohmann::json transition_event(const char* type, const Transition& transition, const std::string& key,
                                  uint64_t step, const char* severity) const;

  std::string run_, tap_;
  MonitorOptions options_;
  Emit emit_;
  TransitionDetector detector_;
  std::unique_ptr<PhaseLabeller> phases_;
  std::optional<std::pair<double, double>> entropies_;
  std::set<std::string> raised_;  // "emerged:17", "transition:4", "phase:feature-learning@300"
  std::set<std::size_t> resolved_transitions_;
  bool holding_ = false;
  std::vector<nlohmann::json> held_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_TAP_MONITOR_H_
