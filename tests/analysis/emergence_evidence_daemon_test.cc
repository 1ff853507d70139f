// Emergence evidence through the real daemon with the default config: atoms
// present at every snapshot, some of them on few tokens (which a crosscoder
// may pick up late, so that their decoder norms claim a late emergence: a
// recruit's older heads start at a tenth of its norm). Whatever the decoder
// norm claims, the daemon must not report such an atom's feature emerged; a
// claim the activations contradict is reported strengthened, with the
// evidence, in `features`, the event log and `conceptwatch feature N`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"

namespace cw {
namespace {

using testing::DaemonProcess;

// Atoms [first, n_atoms) keep their coefficient on one token in `keep_every`:
// still present at every snapshot, on a sixth as many tokens.
void make_rare(PlantedDictionary* p, int64_t first, int64_t keep_every) {
  const int64_t K = p->options.n_atoms, d = p->options.d_model, N = p->options.n_tokens;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = first; k < K; ++k) {
      float& c = p->coefficients[n * K + k];
      if (c == 0 || n % keep_every == 0) continue;
      for (std::size_t t = 0; t < p->activations.size(); ++t)
        for (int64_t j = 0; j < d; ++j) p->activations[t][n * d + j] -= c * p->atoms[t][k * d + j];
      c = 0;
    }
}

TEST(EmergenceEvidenceDaemon, AtomsPresentAllAlongAreNeverReportedEmerged) {
  PlantedOptions o;
  o.d_model = 32, o.n_atoms = 32, o.n_snapshots = 8, o.n_tokens = 2048, o.active_per_token = 3;
  o.noise = 0.01, o.stationary = true, o.seed = 21;
  PlantedDictionary p = make_planted_dictionary(o);
  make_rare(&p, 24, 6);
  const int64_t T = o.n_snapshots, K = o.n_atoms, d = o.d_model;

  // The default config, as a new user runs it.
  DaemonProcess daemon;
  daemon.start();
  testing::stream_planted(daemon, "stationary", p);

  std::map<int64_t, nlohmann::json> features;
  const auto answer = daemon.query("features", {{"run", "stationary"}, {"filter", "all"}, {"limit", 0}});  // kept for the loop
  for (const auto& f : answer["features"])
    features[f["feature"].get<int64_t>()] = f;
  const auto directions = testing::exported_directions(daemon, "stationary", T - 1);
  int matched = 0, emerged = 0, strengthened = 0, unmeasured = 0;
  for (int64_t k = 0; k < K; ++k) {
    int64_t best = -1;
    double best_cos = 0;
    for (std::size_t i = 0; i < directions.size(); ++i) {
      const double c = testing::cosine(&p.atoms[T - 1][k * d], directions[i].data(), d);
      if (c > best_cos) best = int64_t(i), best_cos = c;
    }
    if (best_cos < 0.9) continue;
    ++matched;
    const nlohmann::json f = features.count(best) ? features[best] : nlohmann::json::object();
    const nlohmann::json evidence = f.value("emergence_evidence", nlohmann::json());
    const nlohmann::json emerged_step = f.value("emerged_step", nlohmann::json());
    if (!emerged_step.is_null() && emerged_step.get<uint64_t>() > 0) {
      ++emerged;
      std::printf("atom %lld (present all along): feature %lld emerged at %s, evidence %s\n", (long long)k,
                  (long long)best, emerged_step.dump().c_str(), evidence.dump().c_str());
    }
    if (!f.value("strengthened_step", nlohmann::json()).is_null()) {
      ++strengthened;
      EXPECT_EQ(evidence["verdict"], "contradicted") << f.dump();
      EXPECT_GE(evidence["activation_strength_before"].get<double>(), 0.5) << f.dump();
    }
    if (!evidence.is_null() && evidence["verdict"] == "unmeasured") ++unmeasured;
  }
  // The decoder-norm readout alone would have dated emerged + strengthened
  // of these atoms after snapshot 0.
  std::printf("atoms present all along matched (cos >= 0.9): %d; decoder norm claims a late emergence for %d; "
              "the activations contradict %d of them; emerged %d; unmeasured %d\n",
              matched, emerged + strengthened, strengthened, emerged, unmeasured);
  EXPECT_GE(matched, 0.9 * K);
  EXPECT_LE(emerged, 0.05 * matched);
  // Measured (12 snapshots, default config, AMD EPYC): all 32 atoms matched
  // from the start, so the decoder norm claimed no late emergence and the
  // lines below had nothing to check; a stream that provokes one in CI time
  // is still wanted.

  // Each strengthened feature's event is in the log, with its evidence, and
  // `conceptwatch feature N` says so.
  int strengthened_events = 0;
  for (const auto& event : daemon.query("events", {{"run", "stationary"}, {"type", "feature_strengthened"}})) {
    ++strengthened_events;
    EXPECT_EQ(event["kind"], "strengthened");
    EXPECT_EQ(event["evidence"]["verdict"], "contradicted") << event.dump();
  }
  EXPECT_GE(strengthened_events, strengthened);  // each one raised when first seen
  for (const auto& [id, f] : features) {
    if (f.value("strengthened_step", nlohmann::json()).is_null()) continue;
    const std::string out = daemon.scratch().sub("feature.txt");
    const std::string command = std::string(CW_CLI_PATH) + " --data-dir " + daemon.data_dir() + " --endpoint " +
                                daemon.query_endpoint() + " feature " + std::to_string(id) +
                                " --run stationary > " + out;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(out);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("strengthened (present before, by its activations) at step"), std::string::npos) << text;
    EXPECT_NE(text.find("contradicted (strength"), std::string::npos) << text;
    break;
  }
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
