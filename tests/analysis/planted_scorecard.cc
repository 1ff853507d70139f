#include "tests/analysis/planted_scorecard.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "tests/analysis/planted_stream.h"

namespace cw::testing {
namespace {

// Atom k against feature i: the largest |cos| between them over the
// snapshots where k is on.
double match_score(const PlantedDictionary& p, const DaemonReport& report, int64_t k, int64_t i) {
  const int64_t T = p.options.n_snapshots, d = p.options.d_model;
  double best = 0;
  for (int64_t t = 0; t < T; ++t)
    if (p.is_on(k, t)) best = std::max(best, std::fabs(cosine(&p.atoms[t][k * d], report.directions[t][i].data(), d)));
  return best;
}

struct Candidate {
  double score;
  int64_t atom, feature;
};

// Greedy one-to-one matching by score, best first: matched[k] = feature or
// -1, and (*score)[k] its score (0 when unmatched).
std::vector<int64_t> match_atoms(const PlantedDictionary& p, const DaemonReport& report, std::vector<double>* score) {
  const int64_t K = p.options.n_atoms;
  const int64_t F = report.directions.empty() ? 0 : int64_t(report.directions[0].size());
  std::vector<Candidate> candidates;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < F; ++i) {
      const double score = match_score(p, report, k, i);
      if (score >= kMatchCosine) candidates.push_back({score, k, i});
    }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(b.score, a.atom, a.feature) < std::tie(a.score, b.atom, b.feature);
  });
  std::vector<int64_t> matched(K, -1);
  score->assign(K, 0.0);
  std::vector<bool> taken(F, false);
  for (const auto& c : candidates) {
    if (matched[c.atom] >= 0 || taken[c.feature]) continue;
    matched[c.atom] = c.feature;
    (*score)[c.atom] = c.score;
    taken[c.feature] = true;
  }
  return matched;
}

// Listed claims ordered by their "cosine", largest first.
bool by_cosine_descending(const nlohmann::json& a, const nlohmann::json& b) {
  return a.at("cosine").get<double>() > b.at("cosine").get<double>();
}

// The atom nearest to feature i by the matching's score, and that score.
std::pair<int64_t, double> nearest_atom(const PlantedDictionary& p, const DaemonReport& report, int64_t i) {
  std::pair<int64_t, double> best{-1, 0.0};
  for (int64_t k = 0; k < p.options.n_atoms; ++k) {
    const double score = match_score(p, report, k, i);
    if (score > best.second) best = {k, score};
  }
  return best;
}

}  // namespace

DaemonReport read_daemon_report(const DaemonProcess& daemon, const std::string& run) {
  const auto timeout = std::chrono::seconds(60);
  DaemonReport report;
  report.crosscoder = daemon.query("crosscoder", {{"run", run}}, timeout);
  report.features = daemon.query("features", {{"run", run}, {"filter", "all"}, {"limit", 0}}, timeout);
  report.phases = daemon.query("phases", {{"run", run}}, timeout);
  report.directions = exported_decoder(daemon, run);
  return report;
}

Scorecard score_planted(const PlantedDictionary& p, const DaemonReport& report, uint64_t (*step_of)(int64_t)) {
  const int64_t K = p.options.n_atoms, T = p.options.n_snapshots, d = p.options.d_model;
  Scorecard s;
  const auto& last = report.crosscoder.at("snapshots").back();
  s.explained_variance = last.at("explained_variance").get<double>();
  s.l0 = last.at("l0").get<double>();
  s.planted_l0 = p.mean_active(T - 1);
  if (last.contains("held_out_explained_variance")) {
    s.held_out_explained_variance = last.at("held_out_explained_variance").get<double>();
    s.memorised = last.value("memorised", false);
  }

  double cos_sum = 0;
  int on_at_end = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (!p.is_on(k, T - 1)) continue;
    double best = 0;
    for (const auto& row : report.directions[T - 1]) best = std::max(best, std::fabs(cosine(&p.atoms[T - 1][k * d], row.data(), d)));
    cos_sum += best;
    ++on_at_end;
  }
  s.mean_max_cosine = on_at_end ? cos_sum / on_at_end : 0;

  std::map<int64_t, nlohmann::json> features;
  for (const auto& f : report.features.at("features")) features[f.at("feature").get<int64_t>()] = f;
  // Feature id's answer for `key`; null where it has none (or is not listed).
  auto answer = [&](int64_t id, const char* key) -> nlohmann::json {
    auto it = features.find(id);
    return it == features.end() ? nlohmann::json() : it->second.value(key, nlohmann::json());
  };
  auto emerged_step = [&](int64_t id) -> int64_t {  // -1: no emergence claimed
    const auto step = answer(id, "emerged_step");
    return step.is_null() ? -1 : step.get<int64_t>();
  };
  auto evidence_of = [&](int64_t id, const char* key) -> nlohmann::json {  // of the claimed emergence; null: none
    const auto evidence = answer(id, "emergence_evidence");
    return evidence.is_object() ? evidence.value(key, nlohmann::json()) : nlohmann::json();
  };
  auto strength_at = [&](int64_t id) { return evidence_of(id, "activation_strength_at"); };  // null: unmeasured
  auto strengthened = [&](int64_t id) { return !answer(id, "strengthened_step").is_null(); };

  std::vector<double> match_cosine;
  const auto matched = match_atoms(p, report, &match_cosine);
  auto claim = [&](int64_t k, int64_t claimed) {
    return nlohmann::json{{"atom", k},
                          {"onset_step", step_of(p.onset[k])},
                          {"feature", matched[k]},
                          {"cosine", match_cosine[k]},
                          {"emerged_step", claimed >= 0 ? nlohmann::json(claimed) : nlohmann::json()},
                          {"transient_step", answer(matched[k], "transient_step")}};
  };
  // The other features as near atom k as the matching asks (what a late
  // claim's atom has besides the feature it was matched to), best first.
  const int64_t n_features = report.directions.empty() ? 0 : int64_t(report.directions[0].size());
  auto rivals = [&](int64_t k, int64_t matched_feature) {
    std::vector<nlohmann::json> out;
    for (int64_t i = 0; i < n_features; ++i) {
      const double score = i == matched_feature ? 0.0 : match_score(p, report, k, i);
      if (score < kMatchCosine) continue;
      out.push_back({{"feature", i}, {"cosine", score}, {"emerged_step", answer(i, "emerged_step")}});
    }
    std::sort(out.begin(), out.end(), by_cosine_descending);
    return out;
  };
  std::vector<bool> is_matched(n_features, false);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t feature = matched[k];
    if (feature >= 0) is_matched[feature] = true;
    const int64_t claimed = feature >= 0 ? emerged_step(feature) : -1;
    if (feature >= 0 && strengthened(feature)) ++(p.onset[k] > 0 ? s.strengthened_rising : s.strengthened_from_start);
    if (feature >= 0 && p.fade[k] >= T) {
      ++s.lasting_matched;
      const auto faded_at = answer(feature, "faded_step");
      if (faded_at.is_number() && faded_at.get<int64_t>() >= int64_t(step_of(p.onset[k]))) {
        ++s.false_fades;
        s.falsely_faded.push_back({{"atom", k},
                                   {"onset_step", step_of(p.onset[k])},
                                   {"feature", feature},
                                   {"cosine", match_cosine[k]},
                                   {"faded_step", faded_at}});
      }
    }
    if (p.onset[k] > 0) {
      ++s.rising;
      const int64_t onset = int64_t(step_of(p.onset[k]));
      if (claimed != onset) s.misdated.push_back(claim(k, claimed));
      if (feature < 0) continue;
      ++s.rising_matched;
      s.dated_exact += claimed == onset;
      if (claimed == onset) s.strength_at_exact.push_back(strength_at(feature));
      if (claimed == onset) s.cosine_next_at_exact.push_back(evidence_of(feature, "decoder_cosine_next"));
      const int64_t before = int64_t(step_of(p.onset[k] - 1));
      const int64_t after = p.onset[k] + 1 < T ? int64_t(step_of(p.onset[k] + 1)) : onset;
      s.dated_within_one += claimed >= before && claimed <= after;
      continue;
    }
    ++s.from_start;
    if (feature >= 0) {
      ++s.from_start_matched;
      s.late_claims += claimed > int64_t(step_of(0));
      if (claimed > int64_t(step_of(0))) {
        auto late = claim(k, claimed);
        late["rivals"] = rivals(k, feature);
        s.late.push_back(std::move(late));
      }
    }
    if (p.fade[k] < T) {
      ++s.fading;
      const bool faded = feature >= 0 && !answer(feature, "faded_step").is_null();
      s.faded += faded;
      if (!faded)
        s.unfaded.push_back(
            {{"atom", k}, {"fade_step", step_of(p.fade[k])}, {"feature", feature}, {"cosine", match_cosine[k]}});
    }
  }

  std::vector<int64_t> atom_of_feature(is_matched.size(), -1);
  for (int64_t k = 0; k < K; ++k)
    if (matched[k] >= 0) atom_of_feature[matched[k]] = k;
  for (const auto& [id, f] : features) {
    if (!f.value("live", false)) continue;
    ++s.live;
    const int64_t claimed = emerged_step(id);
    if (is_matched[id] || claimed < 0) continue;
    ++s.stray_claims;
    const auto [atom, cos] = nearest_atom(p, report, id);
    const int64_t onset = atom >= 0 ? int64_t(step_of(p.onset[atom])) : -1;
    if (cos >= kMatchCosine) {
      ++s.stray_copies;
      s.stray_copies_dated_right += claimed == onset;
    } else {
      s.stray_partial += cos >= kPartialCosine;
    }
    s.stray.push_back({{"feature", id},
                       {"emerged_step", claimed},
                       {"atom", atom},
                       {"onset_step", onset},
                       {"cosine", cos},
                       {"atom_feature", atom >= 0 ? matched[atom] : -1},
                       {"activation_strength_at", strength_at(id)}});
  }
  std::sort(s.stray.begin(), s.stray.end(), by_cosine_descending);

  if (p.options.mass_emergence_snapshot >= 0 && !p.options.stationary) s.mass_snapshots = {p.options.mass_emergence_snapshot};
  std::vector<bool> explains_mass(s.mass_snapshots.size(), false);
  for (const auto& transition : report.phases.at("transitions")) {
    const uint64_t step = transition.at("onset_step").get<uint64_t>();
    s.transition_steps.push_back(step);
    ++s.transitions;
    bool explained = false;
    for (std::size_t m = 0; m < s.mass_snapshots.size(); ++m) {
      const int64_t at = s.mass_snapshots[m];
      const uint64_t lo = step_of(std::max<int64_t>(0, at - 1)), hi = step_of(std::min(T - 1, at + 1));
      if (step >= lo && step <= hi) explained = explains_mass[m] = true;
    }
    s.false_alarms += !explained;
  }
  s.mass_flagged = int(std::count(explains_mass.begin(), explains_mass.end(), true));
  return s;
}

nlohmann::json Scorecard::to_json() const {
  return {{"mean_max_cosine", mean_max_cosine},
          {"explained_variance", explained_variance},
          {"l0", l0},
          {"planted_l0", planted_l0},
          {"held_out_explained_variance",
           std::isnan(held_out_explained_variance) ? nlohmann::json() : nlohmann::json(held_out_explained_variance)},
          {"memorised", memorised},
          {"rising", rising},
          {"rising_matched", rising_matched},
          {"dated_exact", dated_exact},
          {"dated_within_one", dated_within_one},
          {"from_start", from_start},
          {"from_start_matched", from_start_matched},
          {"late_claims", late_claims},
          {"strengthened_from_start", strengthened_from_start},
          {"strengthened_rising", strengthened_rising},
          {"fading", fading},
          {"faded", faded},
          {"lasting_matched", lasting_matched},
          {"false_fades", false_fades},
          {"falsely_faded", falsely_faded},
          {"mass_snapshots", mass_snapshots},
          {"mass_flagged", mass_flagged},
          {"transitions", transitions},
          {"transition_steps", transition_steps},
          {"false_alarms", false_alarms},
          {"live", live},
          {"stray_claims", stray_claims},
          {"stray_copies", stray_copies},
          {"stray_copies_dated_right", stray_copies_dated_right},
          {"stray_partial", stray_partial},
          {"stray", stray},
          {"strength_at_exact", strength_at_exact},
          {"cosine_next_at_exact", cosine_next_at_exact},
          {"misdated", misdated},
          {"unfaded", unfaded},
          {"late", late}};
}

Scorecard Scorecard::from_json(const nlohmann::json& j) {
  Scorecard s;
  j.at("mean_max_cosine").get_to(s.mean_max_cosine);
  j.at("explained_variance").get_to(s.explained_variance);
  j.at("l0").get_to(s.l0);
  j.at("planted_l0").get_to(s.planted_l0);
  // Absent from results saved before rows were held out.
  if (j.contains("held_out_explained_variance") && j["held_out_explained_variance"].is_number())
    j["held_out_explained_variance"].get_to(s.held_out_explained_variance);
  s.memorised = j.value("memorised", false);
  j.at("rising").get_to(s.rising);
  j.at("rising_matched").get_to(s.rising_matched);
  j.at("dated_exact").get_to(s.dated_exact);
  j.at("dated_within_one").get_to(s.dated_within_one);
  j.at("from_start").get_to(s.from_start);
  j.at("from_start_matched").get_to(s.from_start_matched);
  j.at("late_claims").get_to(s.late_claims);
  s.strengthened_from_start = j.value("strengthened_from_start", 0);  // absent from results saved before it
  s.strengthened_rising = j.value("strengthened_rising", 0);
  j.at("fading").get_to(s.fading);
  j.at("faded").get_to(s.faded);
  s.lasting_matched = j.value("lasting_matched", -1);  // absent from results saved before false fades were counted
  s.false_fades = j.value("false_fades", 0);
  if (j.contains("falsely_faded")) j["falsely_faded"].get_to(s.falsely_faded);
  j.at("mass_snapshots").get_to(s.mass_snapshots);
  j.at("mass_flagged").get_to(s.mass_flagged);
  j.at("transitions").get_to(s.transitions);
  j.at("transition_steps").get_to(s.transition_steps);
  j.at("false_alarms").get_to(s.false_alarms);
  j.at("live").get_to(s.live);
  j.at("stray_claims").get_to(s.stray_claims);
  s.stray_copies = j.value("stray_copies", 0);  // absent from results saved before they were classified
  s.stray_copies_dated_right = j.value("stray_copies_dated_right", 0);
  s.stray_partial = j.value("stray_partial", 0);
  if (j.contains("stray")) j["stray"].get_to(s.stray);
  if (j.contains("strength_at_exact")) j["strength_at_exact"].get_to(s.strength_at_exact);
  if (j.contains("cosine_next_at_exact")) j["cosine_next_at_exact"].get_to(s.cosine_next_at_exact);
  if (j.contains("misdated")) j["misdated"].get_to(s.misdated);
  if (j.contains("unfaded")) j["unfaded"].get_to(s.unfaded);
  if (j.contains("late")) j["late"].get_to(s.late);
  return s;
}

}  // namespace cw::testing
