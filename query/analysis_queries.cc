#include "query/analysis_queries.h"

#include <algorithm>
#include <cmath>

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

void add_analysis_queries(QueryHandler& handler, Store& store, const EmergenceOptions& emergence) {
  add_attribution_query(handler, store, emergence);
  handler.add("crosscoder", [&store](const nlohmann::json& params) {
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
    }
    return nlohmann::json{{"run", run}, {"tap", tap}, {"snapshots", snapshots}, {"flicker", flicker}};
  });

  handler.add("features", [&store, emergence](const nlohmann::json& params) {
    const std::string run = required_param(params, "run");
    const std::string tap = resolve_tap(store, run, params);
    const auto probe = RunCatalog(store).probe(run);
    const std::string sort = params.value("sort", "emergence");
    const std::string filter = params.value("filter", "live");
    const int64_t limit = integer_param<int64_t>(params, "limit", 50);
    std::vector<FeatureSummary> rows;
    for (const auto& trajectory : TrajectoryTable(store).list(run, tap)) {
      FeatureSummary summary = summarise_feature(trajectory, emergence, probe ? &*probe : nullptr);
      const auto& j = summary.json;
      const bool keep = filter == "all" || (filter == "live" && j["live"].get<bool>()) ||
                        (filter == "emerged" && !j["emerged_step"].is_null()) ||
                        (filter == "faded" && !j["faded_step"].is_null()) ||
                        (filter == "strengthened" && !j["strengthened_step"].is_null()) ||
                        (filter == "present" && j["present"].get<bool>());
      if (keep) rows.push_back(std::move(summary));
    }
    if (sort != "emergence" && sort != "strength" && sort != "contextuality" && sort != "id") {
      throw QueryError("sort must be emergence, strength, contextuality or id");
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const FeatureSummary& a, const FeatureSummary& b) {
      if (sort == "emergence") return a.emerged_step < b.emerged_step;
      if (sort == "strength") return a.strength > b.strength;
      if (sort == "contextuality") {
        const double ca = std::isnan(a.contextuality) ? -1 : a.contextuality;
        const double cb = std::isnan(b.contextuality) ? -1 : b.contextuality;
        return ca > cb;
      }
      return false;
    });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows) {
      if (limit > 0 && int64_t(out.size()) >= limit) break;
      out.push_back(row.json);
    }
    return nlohmann::json{{"run", run}, {"tap", tap}, {"matched", rows.size()}, {"features", out}};
  });

  handler.add("feature", [&store, emergence](const nlohmann::json& params) {
    const std::string run = required_param(params, "run");
    const std::string tap = resolve_tap(store, run, params);
    if (!params.contains("id") || !params["id"].is_number_integer()) throw QueryError("missing parameter 'id'");
    const uint32_t id = params["id"].get<uint32_t>();
    auto trajectory = TrajectoryTable(store).get(run, tap, id);
    if (!trajectory) throw QueryError("no feature " + std::to_string(id) + " in " + run + "/" + tap);
    const auto probe = RunCatalog(store).probe(run);
    nlohmann::json out = summarise_feature(*trajectory, emergence, probe ? &*probe : nullptr).json;
    nlohmann::json points = nlohmann::json::array();
    for (const auto& p : trajectory->points) {
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
    nlohmann::json contexts = nlohmann::json::array();
    for (const auto& c : trajectory->top_contexts) {
      contexts.push_back({{"token_index", c.token_index},
                          {"activation", c.activation},
                          {"text", probe ? context_text(*probe, c.token_index) : ""}});
    }
    nlohmann::json events = nlohmann::json::array();
    for (const auto& event : EventLog(store).list(run)) {
      if (event.value("tap", "") == tap && event.contains("feature") && event["feature"] == id) events.push_back(event);
    }
    out["run"] = run;
    out["tap"] = tap;
    out["trajectory"] = points;
    out["top_contexts"] = contexts;
    out["events"] = events;
    return out;
  });

  handler.add("events", [&store](const nlohmann::json& params) {
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
  });

  handler.add("phases", [&store](const nlohmann::json& params) {
    const std::string run = required_param(params, "run");
    const std::string tap = resolve_tap(store, run, params);
    nlohmann::json transitions = nlohmann::json::array(), labels = nlohmann::json::array();
    for (const auto& event : EventLog(store).list(run)) {
      if (event.value("tap", "") != tap) continue;
      if (event.value("type", "") == "phase_transition") transitions.push_back(event);
      if (event.value("type", "") == "phase") labels.push_back(event);
    }
    nlohmann::json current = nullptr, series = nlohmann::json::array();
    for (const auto& [step, metrics] : MetricsTable(store).list(run, tap)) {
      if (!metrics.contains("series")) continue;
      nlohmann::json row = metrics["series"];
      row["step"] = step;
      if (row.contains("phase")) current = row["phase"];
      series.push_back(row);
    }
    // The detectors' current estimates, with when each was raised (from its
    // event); a store from before the transitions table has the events only.
    if (auto now = TransitionTable(store).get(run, tap)) {
      std::map<uint64_t, nlohmann::json> raised;
      for (const auto& event : transitions) raised[event.value("transition", uint64_t(0))] = event;
      for (auto& t : *now) {
        auto it = raised.find(t.value("transition", uint64_t(0)));
        if (it == raised.end()) continue;  // raised by an update whose events are not stored yet
        for (const char* key : {"type", "run", "tap", "raised_unix_ms", "raised_at_step", "step", "seq"})
          if (it->second.contains(key)) t[key] = it->second[key];
        t["raised_onset_step"] = it->second["onset_step"];
      }
      transitions = *now;
    }
    return nlohmann::json{{"run", run}, {"tap", tap}, {"phase", current}, {"transitions", transitions},
                          {"phase_changes", labels}, {"series", series}};
  });
}

}  // namespace cw
