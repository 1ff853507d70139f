// The crosscoder and the detectors as the daemon runs them: a planted
// dictionary streamed snapshot by snapshot into the real conceptwatchd, then
// checked through its queries and `conceptwatch export`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::kRecoveryCrosscoder;
using testing::planted_step;


// Share of live features allowed to claim an emergence without matching any atom.
constexpr double kFalsePositiveRate = 0.05;

struct Match {
  int64_t feature = -1;
  double cosine = 0;
};

// The decoder direction closest to atom k at snapshot t.
Match best_feature(const PlantedDictionary& p, const std::vector<std::vector<float>>& directions, int64_t k, int64_t t) {
  const int64_t d = p.options.d_model;
  Match best;
  for (std::size_t i = 0; i < directions.size(); ++i) {
    const double c = testing::cosine(&p.atoms[t][k * d], directions[i].data(), d);
    if (c > best.cosine) best = {int64_t(i), c};
  }
  return best;
}

TEST(PlantedDaemon, OnlineCrosscoderRecoversAtomsAndDatesTheirEmergence) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots, K = p.options.n_atoms;
  testing::TempDir config_dir;
  DaemonProcess daemon(
      {"--config", testing::write_crosscoder_config(config_dir, kRecoveryCrosscoder), "--log-level", "info"});
  daemon.start();
  testing::stream_planted(daemon, "planted", p);

  // Reconstruction at the final snapshot, from the daemon's stored metrics.
  const auto metrics = daemon.query("crosscoder", {{"run", "planted"}})["snapshots"];
  ASSERT_EQ(metrics.size(), std::size_t(T));
  const double ev = metrics.back()["explained_variance"].get<double>();
  const double l0 = metrics.back()["l0"].get<double>();
  const double planted_l0 = p.mean_active(T - 1);

  // Directions: every atom on at the final snapshot against W_D there.
  const auto final_directions = testing::exported_directions(daemon, "planted", T - 1);
  const auto first_directions = testing::exported_directions(daemon, "planted", 0);
  double cos_sum = 0;
  int on = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (!p.is_on(k, T - 1)) continue;
    const Match m = best_feature(p, final_directions, k, T - 1);
    if (m.cosine < 0.9) {
      std::printf("atom %lld (onset %lld) is matched poorly: feature %lld cos %.3f\n", (long long)k,
                  (long long)p.onset[k], (long long)m.feature, m.cosine);
    }
    cos_sum += m.cosine;
    ++on;
  }
  const double mean_max_cos = cos_sum / on;
  std::printf("daemon online: EV %.4f L0 %.3f (planted %.3f) mean max cos %.4f\n", ev, l0, planted_l0, mean_max_cos);
  EXPECT_GE(mean_max_cos, 0.9);
  EXPECT_GE(ev, 0.9);

  // Emergence: the feature matched to each atom that switches on later is
  // reported as emerging at the atom's onset snapshot.
  std::map<int64_t, nlohmann::json> features;
  const auto answer = daemon.query("features", {{"run", "planted"}, {"filter", "all"}, {"limit", 0}});
  for (const auto& f : answer["features"]) {
    features[f["feature"].get<int64_t>()] = f;
  }
  auto feature = [&](int64_t id) { return features.count(id) ? features[id] : nlohmann::json::object(); };
  std::set<int64_t> matched;
  int rising = 0, dated = 0;
  for (int64_t k = 0; k < K; ++k) {
    const Match m = best_feature(p, final_directions, k, T - 1);
    if (p.is_on(k, T - 1)) matched.insert(m.feature);
    if (p.onset[k] == 0 || !p.is_on(k, T - 1)) continue;
    ++rising;
    const auto f = feature(m.feature);
    const bool ok = f.contains("emerged_step") && f["emerged_step"] == planted_step(p.onset[k]);
    dated += ok;
    if (!ok) {
      std::printf("atom %lld (onset %lld): feature %lld cos %.3f emerged_step %s\n", (long long)k,
                  (long long)planted_step(p.onset[k]), (long long)m.feature, m.cosine,
                  f.value("emerged_step", nlohmann::json()).dump().c_str());
      testing::print_feature_history(daemon, "planted", p, m.feature);
    }
  }
  std::printf("emergence dated exactly for %d of %d rising atoms\n", dated, rising);
  EXPECT_GE(dated, 0.9 * rising);

  // Fading atoms (on at snapshot 0, off later): their features faded.
  int fading = 0, faded = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (p.onset[k] != 0 || p.fade[k] >= T) continue;
    ++fading;
    const Match m = best_feature(p, first_directions, k, 0);
    matched.insert(m.feature);
    const auto f = feature(m.feature);
    const bool ok = !f.value("faded_step", nlohmann::json()).is_null();
    faded += ok;
    std::printf("fading atom %lld (fade %lld): feature %lld cos %.3f faded_step %s\n", (long long)k,
                (long long)planted_step(p.fade[k]), (long long)m.feature, m.cosine,
                f.value("faded_step", nlohmann::json()).dump().c_str());
    if (!ok) testing::print_feature_history(daemon, "planted", p, m.feature);
  }
  EXPECT_EQ(faded, fading);

  // Features that match no atom (below 0.5 cosine with every atom at the
  // first and the final snapshot; duplicates and two-atom mixtures do
  // match): at most kFalsePositiveRate of the live features may be such a
  // feature with an emergence.
  auto matches_some_atom = [&](int64_t id) {
    for (int64_t k = 0; k < K; ++k) {
      const int64_t d = p.options.d_model;
      if (testing::cosine(&p.atoms[T - 1][k * d], final_directions[id].data(), d) >= 0.5) return true;
      if (testing::cosine(&p.atoms[0][k * d], first_directions[id].data(), d) >= 0.5) return true;
    }
    return false;
  };
  int live = 0, unmatched_live = 0, false_emergences = 0;
  for (const auto& [id, f] : features) {
    if (!f["live"].get<bool>()) continue;
    ++live;
    if (matches_some_atom(id)) continue;
    ++unmatched_live;
    if (!f["emerged_step"].is_null()) {
      ++false_emergences;
      std::printf("feature %lld matches no atom but emerged at %s (frequency %.3f)\n", (long long)id,
                  f["emerged_step"].dump().c_str(), f["frequency"].get<double>());
    }
  }
  std::printf("live features matching no atom: %d, with an emergence: %d\n", unmatched_live, false_emergences);
  EXPECT_LE(false_emergences, kFalsePositiveRate * live);

  // The paper's figure, as the CLI draws it; kept where CW_TEST_ARTIFACTS
  // says (to be looked at), else in the daemon's scratch directory.
  const char* artifacts = std::getenv("CW_TEST_ARTIFACTS");
  const std::string png = (artifacts ? std::string(artifacts) : daemon.scratch().path()) + "/planted_features.png";
  const std::string plot = std::string(CW_CLI_PATH) + " --data-dir " + daemon.data_dir() + " --endpoint " +
                           daemon.query_endpoint() + " plot --run planted --out " + png + " > /dev/null";
  ASSERT_EQ(std::system(plot.c_str()), 0) << plot;
  std::ifstream image(png, std::ios::binary);
  char signature[8] = {};
  image.read(signature, 8);
  EXPECT_EQ(std::string(signature, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

// A small, quick crosscoder for the long streams below.
const char* kSmallCrosscoder =
    "n_features = 64\nbatch_size = 256\nsteps_per_update = 150\nlr = 0.003\nsparsity_lambda = 0.02\n"
    "seed = 3\nthreads = 1\n";

PlantedOptions small_planted(int64_t snapshots, uint64_t seed) {
  PlantedOptions o;
  o.d_model = 16;
  o.n_atoms = 32;
  o.n_snapshots = snapshots;
  o.n_tokens = 2048;
  o.active_per_token = 3;
  o.noise = 0.01;
  o.n_fading = 0;
  o.seed = seed;
  return o;
}

// The daemon's config: the crosscoder plus a JSON-lines alert sink.
std::string config_with_alerts(const testing::TempDir& dir, const std::string& alerts_path) {
  const std::string path = testing::write_crosscoder_config(dir, kSmallCrosscoder);
  std::ofstream(path, std::ios::app) << "\n[alerts]\n[[alerts.sinks]]\ntype = \"jsonl\"\npath = \"" << alerts_path
                                     << "\"\n";
  return path;
}

// A daemon with the small crosscoder and a JSON-lines alert sink that has
// taken in one planted stream as `run`.
struct StreamedRun {
  StreamedRun(const std::string& run, const PlantedDictionary& planted) {
    daemon.start();
    testing::stream_planted(daemon, run, planted);
  }
  testing::TempDir dir;
  std::string alerts = dir.sub("alerts.jsonl");
  DaemonProcess daemon{{"--config", config_with_alerts(dir, alerts), "--log-level", "info"}};
};

// Firing alerts named `alertname` in a JSON-lines alert file.
std::vector<nlohmann::json> firing_alerts(const std::string& path, const std::string& alertname) {
  std::vector<nlohmann::json> alerts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto alert = nlohmann::json::parse(line);
    if (alert["labels"].value("alertname", "") == alertname && alert.value("status", "") == "firing") {
      alerts.push_back(alert);
    }
  }
  return alerts;
}

TEST(PlantedDaemon, AMassEmergenceRaisesOnePhaseTransitionAtItsSnapshot) {
  // 16 atoms on from the start, 12 more switch on together at snapshot 10
  // and 4 alone at snapshots 0, 5, 10 and 15.
  PlantedOptions o = small_planted(20, 5);
  o.n_initial = 16;
  o.mass_emergence_snapshot = 10;
  o.mass_emergence_fraction = 0.75;
  StreamedRun mass("mass", make_planted_dictionary(o));
  auto& daemon = mass.daemon;

  const auto phases = daemon.query("phases", {{"run", "mass"}});
  const auto& transitions = phases["transitions"];
  ASSERT_EQ(transitions.size(), 1u) << phases.dump(1);
  const uint64_t onset = transitions[0]["onset_step"].get<uint64_t>();
  EXPECT_GE(onset, planted_step(9)) << phases.dump(1);
  EXPECT_LE(onset, planted_step(11)) << transitions.dump(1);
  // Raised as the mass emergence arrived (not only once the stream was
  // over), as one alert.
  EXPECT_LE(transitions[0]["alarm_step"].get<uint64_t>(), planted_step(12)) << transitions.dump(1);
  // The stream has no job scalars: the feature signals alone flagged it.
  EXPECT_FALSE(transitions[0]["feature_signals"].empty()) << transitions.dump(1);
  EXPECT_TRUE(transitions[0]["scalar_signals"].empty()) << transitions.dump(1);
  std::printf("mass emergence at step %llu: transition at step %llu, raised at step %s, feature signals %s\n",
              (unsigned long long)planted_step(10), (unsigned long long)onset,
              transitions[0].value("raised_at_step", nlohmann::json()).dump().c_str(),
              transitions[0]["feature_signals"].dump().c_str());
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();  // delivers what is queued
  EXPECT_EQ(firing_alerts(mass.alerts, "PhaseTransition").size(), 1u);
}

TEST(PlantedDaemon, AStationaryDictionaryOverFiftySnapshotsRaisesNoTransition) {
  // Every atom on from the start, drifting slowly, the same noise: nothing
  // to find.
  PlantedOptions o = small_planted(50, 6);
  o.stationary = true;
  StreamedRun control("control", make_planted_dictionary(o));
  auto& daemon = control.daemon;

  const auto phases = daemon.query("phases", {{"run", "control"}});
  EXPECT_TRUE(phases["transitions"].empty()) << phases.dump(1);
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  EXPECT_TRUE(firing_alerts(control.alerts, "PhaseTransition").empty());
}

}  // namespace
}  // namespace cw
