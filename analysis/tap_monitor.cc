#include "analysis/tap_monitor.h"

#include <algorithm>
#include <cmath>

#include "analysis/watchable_series.h"
#include "schema/unix_time.h"

namespace cw {
namespace {

nlohmann::json finite_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

// A feature event's key in the raised set and the log: "emerged:17".
std::string feature_event_key(FeatureEventKind kind, int64_t feature) {
  return std::string(to_string(kind)) + ":" + std::to_string(feature);
}

// A transition event's key in the raised set and the log: "transition:3",
// "transition:3:features", "transition:3:resolved".
std::string transition_event_key(uint64_t transition, const char* suffix = "") {
  return "transition:" + std::to_string(transition) + suffix;
}

}  // namespace

nlohmann::json TapMonitor::transition_json(const Transition& transition) const {
  nlohmann::json moves = nlohmann::json::array();
  nlohmann::json feature_signals = nlohmann::json::array(), scalar_signals = nlohmann::json::array();
  for (const auto& move : transition.moves) {
    (is_scalar(move.series) ? scalar_signals : feature_signals).push_back(move.series);
    moves.push_back({{"series", move.series},
                     {"detectors", move.detectors},
                     {"direction", move.direction},
                     {"magnitude", move.magnitude},
                     {"magnitude_sd", move.magnitude_sd},
                     {"alarm_step", move.alarm_step},
                     {"onset_step", move.onset_step},
                     {"halfway_step", move.halfway_step}});
  }
  return {{"transition", transition.id},
          {"alarm_step", transition.alarm_step},
          {"onset_step", transition.halfway_step},
          {"began_step", transition.began_step},
          {"confirmed", transition.confirmed},
          {"pelt_step", transition.pelt_index ? nlohmann::json(transition.pelt_step) : nlohmann::json()},
          {"series", moves},
          {"feature_signals", feature_signals},
          {"scalar_signals", scalar_signals}};
}

TapMonitor::TapMonitor(std::string run, std::string tap, MonitorOptions options,
                       std::optional<std::pair<double, double>> entropies, Emit emit)
    : run_(std::move(run)),
      tap_(std::move(tap)),
      options_(std::move(options)),
      emit_(std::move(emit)),
      detector_(options_.transitions),
      entropies_(entropies) {
  std::set<std::string> watched(options_.series.begin(), options_.series.end());
  watched.insert(options_.scalar_series.begin(), options_.scalar_series.end());
  for (const auto& name : watched) {
    SeriesOptions series;
    series.min_move = min_move_for(name);
    if (name == "features_alive_share") series.min_scale = options_.features_alive_share_floor;
    if (name == "surprise_ratio") series.spike_above = options_.surprise_ratio_alarm;
    if (auto it = options_.spike_above.find(name); it != options_.spike_above.end()) series.spike_above = it->second;
    if (auto it = options_.spike_over_level.find(name); it != options_.spike_over_level.end())
      series.spike_over_level = it->second;
    if (name == "log_dimensionality_rate") series.direction = CusumDirection::kUp;  // the expansion; see below
    series.joins_only = std::find(options_.joining_only.begin(), options_.joining_only.end(), name) !=
                        options_.joining_only.end();
    // The dictionary catching up (the share falling back) is not a transition.
    if (name == "surprise_share" || name == "sustained_surprise_share") series.direction = CusumDirection::kUp;
    if (name == "mean_direction_change") {
      series.min_scale = options_.direction_change_floor;
      series.direction = CusumDirection::kUp;  // directions settling after a transition is not a new one
    }
    detector_.configure_series(name, series);
  }
  if (entropies_) phases_ = std::make_unique<PhaseLabeller>(entropies_->first, entropies_->second);
}

double TapMonitor::min_move_for(const std::string& series) const {
  if (auto it = options_.min_move.find(series); it != options_.min_move.end()) return it->second;
  const std::string suffix = "loss";
  const bool loss = series.size() >= suffix.size() && series.compare(series.size() - suffix.size(), suffix.size(), suffix) == 0;
  return loss ? options_.loss_min_move : 0;
}

nlohmann::json TapMonitor::transitions_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Transition& transition : detector_.transitions()) out.push_back(transition_json(transition));
  return out;
}

nlohmann::json TapMonitor::transition_event(const char* type, const Transition& transition, const std::string& key,
                                            uint64_t step, const char* severity) const {
  nlohmann::json event = base_event(type);
  event.update(transition_json(transition));
  event["key"] = key;
  event["step"] = step;
  event["severity"] = severity;
  return event;
}

nlohmann::json TapMonitor::base_event(const char* type) const {
  return {{"type", type}, {"run", run_}, {"tap", tap_}, {"raised_unix_ms", unix_now_ms()}};
}

void TapMonitor::say(nlohmann::json event) {
  if (holding_) {
    held_.push_back(std::move(event));
  } else {
    emit_(event);
  }
}

void TapMonitor::hold_events() { holding_ = true; }

void TapMonitor::release_events() {
  holding_ = false;
  std::vector<nlohmann::json> held;
  held.swap(held_);
  for (auto& joined : held) {
    if (joined.value("type", "") != "phase_transition_features") continue;
    const std::string raise_key = transition_event_key(joined.value("transition", uint64_t(0)));
    for (auto& raise : held) {
      if (raise.is_null() || raise.value("key", "") != raise_key) continue;
      joined["type"] = "phase_transition";
      joined["key"] = raise_key;
      joined["severity"] = "warning";
      raise = std::move(joined);
      joined = nullptr;
      break;
    }
  }
  for (const auto& event : held)
    if (!event.is_null()) emit_(event);
}

void TapMonitor::remember(const nlohmann::json& event) {
  if (!event.contains("key")) return;
  raised_.insert(event["key"].get<std::string>());
  // Raised with a feature series already: nothing to say again.
  if (event.value("type", "") == "phase_transition" && !event.value("feature_signals", nlohmann::json()).empty())
    raised_.insert(transition_event_key(event.value("transition", uint64_t(0)), ":features"));
}

bool TapMonitor::has_feature_signal(const Transition& transition) const {
  for (const auto& move : transition.moves)
    if (!is_scalar(move.series)) return true;
  return false;
}

std::optional<TrainingPhase> TapMonitor::phase() const {
  if (!phases_ || phases_->changes().empty()) return std::nullopt;
  return phases_->phase();
}

std::map<std::string, double> TapMonitor::arrival_values(double surprise, double energy, double previous_mse,
                                                         double previous_share,
                                                         const std::vector<std::pair<std::string, double>>& scalars) const {
  // The first snapshot (previous_mse 0) has no head before it: its surprise
  // is the initialisation's, neither ratio nor share says anything.
  const bool later = previous_mse > 0;
  const double share = later && energy > 0 ? surprise / energy : NAN;
  std::map<std::string, double> values = {
      {"surprise", surprise},
      {"surprise_ratio", later ? surprise / previous_mse : NAN},
      {"surprise_share", share},
      {"sustained_surprise_share",
       std::isfinite(share) && std::isfinite(previous_share) ? std::min(share, previous_share) : NAN}};
  for (const auto& [name, value] : scalars) values[name] = value;
  return values;
}

std::map<std::string, double> TapMonitor::feature_values(const FeatureAnalysis& analysis,
                                                         const PopulationSeries& population,
                                                         const std::vector<double>& dimensionality, std::size_t index) {
  const SnapshotAggregates& aggregates = analysis.aggregates.at(index);
  return {{"features_alive", aggregates.features_alive},
          {"features_alive_share", aggregates.features_alive_share},
          {"features_emerging", aggregates.features_emerging},
          {"mean_direction_change", aggregates.mean_direction_change},
          {"emergence_share", population.emergence_share.at(index)},
          {"fading_share", population.fading_share.at(index)},
          {"new_mass_share", population.new_mass_share.at(index)},
          {"turnover", population.turnover.at(index)},
          {"dimensionality_rate", dimensionality.at(index)},
          {"log_dimensionality_rate", dimensionality.at(index) > 0 ? std::log(dimensionality.at(index)) : NAN}};
}

bool TapMonitor::watches_features() const {
  for (const auto& name : options_.series)
    if (feature_series_names().count(name)) return true;
  return false;
}

bool TapMonitor::is_scalar(const std::string& series) const {
  return std::find(options_.scalar_series.begin(), options_.scalar_series.end(), series) !=
         options_.scalar_series.end();
}

nlohmann::json TapMonitor::observe_snapshot(uint64_t step, const std::map<std::string, double>& values, bool replay,
                                            uint64_t known_at_step) {
  std::map<std::string, double> watched;
  for (const auto& name : options_.series)
    if (auto it = values.find(name); it != values.end() && std::isfinite(it->second)) watched[name] = it->second;
  for (const auto& name : options_.scalar_series)
    if (auto it = values.find(name); it != values.end() && std::isfinite(it->second)) watched[name] = it->second;
  const std::size_t before = detector_.transitions().size();
  detector_.observe(step, watched);

  // A transition is raised once; its later refinements (more moves, PELT
  // confirmation) are visible through `phases`, not as new events.
  for (std::size_t i = before; i < detector_.transitions().size(); ++i) {
    const Transition& transition = detector_.transitions()[i];
    const std::string key = transition_event_key(transition.id);
    if (replay || !raised_.insert(key).second) continue;
    nlohmann::json event = transition_event("phase_transition", transition, key, step, "warning");
    event["raised_at_step"] = known_at_step ? known_at_step : step;
    if (has_feature_signal(transition)) raised_.insert(transition_event_key(transition.id, ":features"));
    say(std::move(event));
  }

  // A transition raised on the job's scalars alone ("feature signals: none":
  // the crosscoder trails the job, so its series often move a snapshot or
  // two later) is said again, once, when a feature series joins it.
  for (const Transition& transition : detector_.transitions()) {
    if (!raised_.count(transition_event_key(transition.id)) || !has_feature_signal(transition)) continue;
    const std::string key = transition_event_key(transition.id, ":features");
    if (replay || !raised_.insert(key).second) continue;
    nlohmann::json event = transition_event("phase_transition_features", transition, key, step, "info");
    event["raised_at_step"] = known_at_step ? known_at_step : step;
    say(std::move(event));
  }

  // A transition is over when its series have been quiet for a while.
  const std::size_t index = detector_.steps().size() - 1;
  for (const Transition& transition : detector_.transitions()) {
    if (resolved_transitions_.count(transition.id)) continue;
    if (index < transition.last_alarm_index + options_.resolve_after) continue;
    resolved_transitions_.insert(transition.id);
    const std::string key = transition_event_key(transition.id, ":resolved");
    if (replay || !raised_.insert(key).second) continue;
    say(transition_event("phase_transition_resolved", transition, key, step, "warning"));
  }

  if (phases_) {
    for (const auto& name : options_.loss_scalars) {
      auto it = values.find(name);
      if (it == values.end() || !std::isfinite(it->second)) continue;
      const TrainingPhase previous = phases_->phase();
      const bool first = phases_->changes().empty();
      const TrainingPhase phase = phases_->observe(step, it->second);
      if (!first && phase != previous) {
        // Dated where the loss crossed the entropy, raised where the label switched.
        const PhaseChange& change = phases_->changes().back();
        const std::string key = std::string("phase:") + to_string(phase) + "@" + std::to_string(change.step);
        if (!replay && raised_.insert(key).second) {
          nlohmann::json event = base_event("phase");
          event.update({{"key", key},
                        {"step", change.step},
                        {"confirmed_step", step},
                        {"phase", to_string(phase)},
                        {"previous_phase", to_string(previous)},
                        {"loss", change.loss},
                        {"loss_scalar", name},
                        {"unigram_entropy", entropies_->first},
                        {"bigram_entropy", entropies_->second},
                        {"severity", "info"}});
          say(std::move(event));
        }
      }
      break;
    }
  }
  nlohmann::json stored = nlohmann::json::object();
  for (const auto& [name, value] : values) stored[name] = value;
  if (phases_ && !phases_->changes().empty()) stored["phase"] = to_string(phases_->phase());
  return stored;
}

void TapMonitor::forget_features(const std::vector<int64_t>& features) {
  for (const int64_t f : features) {
    for (auto kind : {FeatureEventKind::kEmerged, FeatureEventKind::kFaded, FeatureEventKind::kReEmerged,
                      FeatureEventKind::kStrengthened})
      raised_.erase(feature_event_key(kind, f));
  }
}

void TapMonitor::observe_features(const FeatureAnalysis& analysis, uint64_t latest_step) {
  for (std::size_t f = 0; f < analysis.events.size(); ++f) {
    for (const auto& event : analysis.events[f]) {
      const std::string kind = to_string(event.kind);
      // Once per feature and kind: as the crosscoder refines, a feature's
      // history is re-dated again and again; the current dates are what
      // `features` answers, while an event says when it was first seen
      // (one re-emergence event per snapshot flooded the log: ~1,250 events
      // for 256 features in the first 520 steps of the demo).
      const std::string key = feature_event_key(event.kind, int64_t(f));
      if (!raised_.insert(key).second) continue;
      const auto& point = analysis.trajectories[f].points[event.snapshot];
      // Strengthened: the norm rose but the activations say it was there before.
      nlohmann::json out = base_event(kind == "faded"          ? "feature_faded"
                                      : kind == "strengthened" ? "feature_strengthened"
                                                               : "feature_emerged");
      out.update({{"key", key},
                  {"feature", f},
                  {"kind", kind},
                  {"step", point.step},
                  {"snapshot_index", event.snapshot},
                  {"detected_at_step", latest_step},
                  {"initially_present", event.initially_present},
                  {"evidence",
                   {{"normalised_norm_before", event.evidence.norm_before},
                    {"normalised_norm_at", event.evidence.norm_at},
                    {"verdict", to_string(event.evidence.verdict)},
                    {"activation_strength_before", finite_or_null(event.evidence.activation_before)},
                    {"activation_strength_at", finite_or_null(event.evidence.activation_at)}}},
                  {"severity", "info"}});
      say(std::move(out));
    }
  }
}

}  // namespace cw
