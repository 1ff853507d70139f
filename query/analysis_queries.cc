#include "query/analysis_queries.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "query/attribution_query.h"
#include "query/feature_summary.h"
#include "store/analysis_tables.h"
#include "store/run_catalog.h"

namespace cw {

std::string resolve_tap(Store& store, const std::string& run, const nlohmann::json& params) {
  auto entry = RunCatalog(store).get(run);
  if (!entry) throw QueryError("unknown run '" + run + "'");
  const std::string tap = params.value("tap", "");
  const auto& taps = entry->description.taps;
  if (!tap.empty()) {
    if (!entry->description.find_tap(tap)) throw QueryError("run '" + run + "' has no tap '" + tap + "'");
    return tap;
  }
  if (taps.size() == 1) return taps[0].name;
  std::string names;
  for (const auto& t : taps) names += (names.empty() ? "" : ", ") + t.name;
  throw QueryError("run '" + run + "' has several taps (" + names + "): pass --tap");
}

namespace {

// `crosscoder`: the stored metrics of each snapshot and the newest flicker.
nlohmann::json crosscoder_query(Store& store, const nlohmann::json& params) {
  const std::string run = required_param(params, "run");
  const std::string tap = resolve_tap(store, run, params);
  nlohmann::json snapshots = nlohmann::json::array();
  for (const auto& [step, metrics] : MetricsTable(store).list(run, tap)) {
    nlohmann::json row = metrics;
    row["step"] = step;
    snapshots.push_back(row);
  }
  if (snapshots.empty()) throw QueryError("no crosscoder for " + run + "/" + tap + " yet");
  // Flicker is measured over the whole trajectories at each update: the
  // newest update's is the current one.
  nlohmann::json flicker = nullptr;
  for (const auto& row : snapshots) {
    const auto series = row.value("series", nlohmann::json::object());
    if (series.contains("flicker"))
      flicker = {{"step", row["step"]},
                 {"share", series["flicker"]},
                 {"flickering_features", series.value("flickering_features", nlohmann::json())},
                 {"live_features", series.value("live_features", nlohmann::json())}};
    // Stored since the `returned` share existed; a store written before has none.
    if (series.contains("flicker") && series.contains("returned_share")) {
      flicker["returned_share"] = series["returned_share"];
      flicker["returned_features"] = series.value("returned_features", nlohmann::json());
    }
  }
  return nlohmann::json{{"run", run}, {"tap", tap}, {"snapshots", snapshots}, {"flicker", flicker}};
}

// Whether a feature's summary passes the `features` query's filter.
bool passes_filter(const std::string& filter, const nlohmann::json& j) {
  return filter == "all" || (filter == "live" && j["live"].get<bool>()) ||
         (filter == "emerged" && !j["emerged_step"].is_null()) ||
         (filter == "faded" && !j["faded_step"].is_null()) ||
         (filter == "strengthened" && !j["strengthened_step"].is_null()) ||
         (filter == "transient" && !j["transient_step"].is_null()) ||
         (filter == "present" && j["present"].get<bool>());
}

// Orders summaries by the `features` query's sort (stable: "id" keeps the stored order).
void sort_features(const std::string& sort, std::vector<FeatureSummary>* rows) {
  if (sort != "emergence" && sort != "strength" && sort != "contextuality" && sort != "id") {
    throw QueryError("sort must be emergence, strength, contextuality or id");
  }
  std::stable_sort(rows->begin(), rows->end(), [&](const FeatureSummary& a, const FeatureSummary& b) {
    if (sort == "emergence") return a.emerged_step < b.emerged_step;
    if (sort == "strength") return a.strength > b.strength;
    if (sort == "contextuality") {
      const double ca = std::isnan(a.contextuality) ? -1 : a.contextuality;
      const double cb = std::isnan(b.contextuality) ? -1 : b.contextuality;
      return ca > cb;
    }
    return false;
  });
}

// `features`: every feature's summary, filtered, sorted and cut to `limit`.
nlohmann::json features_query(Store& store, const EmergenceOptions& emergence, const nlohmann::json& params) {
  const std::string run = required_param(params, "run");
  const std::string tap = resolve_tap(store, run, params);
  const auto probe = RunCatalog(store).probe(run);
  const std::string filter = params.value("filter", "live");
  const int64_t limit = integer_param<int64_t>(params, "limit", 50);
  std::vector<FeatureSummary> rows;
  for (const auto& trajectory : TrajectoryTable(store).list(run, tap)) {
    FeatureSummary summary = summarise_feature(trajectory, emergence, probe ? &*probe : nullptr);
    if (passes_filter(filter, summary.json)) rows.push_back(std::move(summary));
  }
  sort_features(params.value("sort", "emergence"), &rows);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    if (limit > 0 && int64_t(out.size()) >= limit) break;
    out.push_back(row.json);
  }
  return nlohmann::json{{"run", run}, {"tap", tap}, {"matched", rows.size()}, {"features", out}};
}

nlohmann::json trajectory_points(const FeatureTrajectory& trajectory) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : trajectory.points) {
    points.push_back({{"step", p.step},
                      {"decoder_norm", p.decoder_norm},
                      {"normalised_norm", p.normalised_norm},
                      {"frequency", p.frequency},
                      {"mean_activation", p.mean_activation},
                      {"max_activation", p.max_activation},
                      {"cos_previous", p.cos_previous},
                      {"cos_latest", p.cos_latest},
                      {"activation_strength", std::isfinite(p.activation_strength)
                                                  ? nlohmann::json(p.activation_strength)
                                                  : nlohmann::json()}});
  }
  return points;
}

// `feature`: one feature's summary, trajectory, top contexts and events.
nlohmann::json feature_query(Store& store, const EmergenceOptions& emergence, const nlohmann::json& params) {
  const std::string run = required_param(params, "run");
  const std::string tap = resolve_tap(store, run, params);
  if (!params.contains("id") || !params["id"].is_number_integer()) throw QueryError("missing parameter 'id'");
  const uint32_t id = params["id"].get<uint32_t>();
  auto trajectory = TrajectoryTable(store).get(run, tap, id);
  if (!trajectory) throw QueryError("no feature " + std::to_string(id) + " in " + run + "/" + tap);
  const auto probe = RunCatalog(store).probe(run);
  nlohmann::json out = summarise_feature(*trajectory, emergence, probe ? &*probe : nullptr).json;
  nlohmann::json contexts = nlohmann::json::array();
  for (const auto& c : trajectory->top_contexts) {
    // The window's ids and their decoded tokens beside the one-line text,
    // so a client can render the context its own way.
    const ProbeContext context = probe ? probe_context(*probe, c.token_index) : ProbeContext{};
    contexts.push_back({{"token_index", c.token_index},
                        {"activation", c.activation},
                        {"text", context.text},
                        {"token_ids", context.token_ids},
                        {"tokens", context.tokens}});
  }
  nlohmann::json events = nlohmann::json::array();
  for (const auto& event : EventLog(store).list(run)) {
    if (event.value("tap", "") == tap && event.contains("feature") && event["feature"] == id) events.push_back(event);
  }
  out["run"] = run;
  out["tap"] = tap;
  out["trajectory"] = trajectory_points(*trajectory);
  out["top_contexts"] = contexts;
  out["events"] = events;
  return out;
}

// `events`: the run's events (or every run's), of one type, after a sequence number.
nlohmann::json events_query(Store& store, const nlohmann::json& params) {
  const std::string run = params.value("run", "");
  const std::string type = params.value("type", "");
  const uint64_t after = integer_param<uint64_t>(params, "after", 0);
  nlohmann::json out = nlohmann::json::array();
  for (auto& event : EventLog(store).list(run, after)) {
    if (type.empty() || event.value("type", "") == type || (type == "feature" && event.contains("feature"))) {
      out.push_back(std::move(event));
    }
  }
  return out;
}

// The detectors' current estimates of (run, tap)'s transitions, with when
// each was raised (from its event `raised`) and, for one raised on the job's
// scalars alone, when a feature series joined it (`features_joined_at_step`,
// from its phase_transition_features event); a store from before the
// transitions table has the raise events only, and gets them back.
nlohmann::json current_transitions(Store& store, const std::string& run, const std::string& tap,
                                   const nlohmann::json& raised_events, const nlohmann::json& joined_events) {
  auto now = TransitionTable(store).get(run, tap);
  if (!now) return raised_events;
  std::map<uint64_t, nlohmann::json> raised, joined;
  for (const auto& event : raised_events) raised[event.value("transition", uint64_t(0))] = event;
  for (const auto& event : joined_events) joined[event.value("transition", uint64_t(0))] = event;
  for (auto& t : *now) {
    const uint64_t id = t.value("transition", uint64_t(0));
    auto it = raised.find(id);
    if (it == raised.end()) continue;  // raised by an update whose events are not stored yet
    for (const char* key : {"type", "run", "tap", "raised_unix_ms", "raised_at_step", "step", "seq"})
      if (it->second.contains(key)) t[key] = it->second[key];
    t["raised_onset_step"] = it->second["onset_step"];
    if (auto j = joined.find(id); j != joined.end()) {
      t["features_joined_at_step"] = j->second["raised_at_step"];
      t["features_joined_unix_ms"] = j->second["raised_unix_ms"];
    }
  }
  return *now;
}

// `phases`: the transitions, the phase labels and the watched series.
nlohmann::json phases_query(Store& store, const nlohmann::json& params) {
  const std::string run = required_param(params, "run");
  const std::string tap = resolve_tap(store, run, params);
  nlohmann::json transitions = nlohmann::json::array(), joined = nlohmann::json::array(),
                 labels = nlohmann::json::array();
  for (const auto& event : EventLog(store).list(run)) {
    if (event.value("tap", "") != tap) continue;
    const std::string type = event.value("type", "");
    if (type == "phase_transition") transitions.push_back(event);
    if (type == "phase_transition_features") joined.push_back(event);
    if (type == "phase") labels.push_back(event);
  }
  nlohmann::json current = nullptr, series = nlohmann::json::array();
  for (const auto& [step, metrics] : MetricsTable(store).list(run, tap)) {
    if (!metrics.contains("series")) continue;
    nlohmann::json row = metrics["series"];
    row["step"] = step;
    if (row.contains("phase")) current = row["phase"];
    series.push_back(row);
  }
  return nlohmann::json{{"run", run},
                        {"tap", tap},
                        {"phase", current},
                        {"transitions", current_transitions(store, run, tap, transitions, joined)},
                        {"phase_changes", labels},
                        {"series", series}};
}

}  // namespace

void add_analysis_queries(QueryHandler& handler, Store& store, const EmergenceOptions& emergence) {
  add_attribution_query(handler, store, emergence);
  handler.add("crosscoder", [&store](const nlohmann::json& params) { return crosscoder_query(store, params); });
  handler.add("features", [&store, emergence](const nlohmann::json& p) { return features_query(store, emergence, p); });
  handler.add("feature", [&store, emergence](const nlohmann::json& p) { return feature_query(store, emergence, p); });
  handler.add("events", [&store](const nlohmann::json& params) { return events_query(store, params); });
  handler.add("phases", [&store](const nlohmann::json& params) { return phases_query(store, params); });
}

}  // namespace cw
