// What the daemon claims about a planted stream, scored against what was
// planted: the science benchmark (bench/science) prints these, the CI-sized
// test (planted_science_test.cc) asserts the bars the defaults meet.
//
// Atoms are matched to features one to one by decoder direction: the score
// of (atom k, feature i) is the largest |cos(a_k^t, W_D,i^t)| over the
// snapshots t where k is on; pairs scoring ≥ kMatchCosine are taken greedily,
// best first. Every claim is then judged by the feature's own reported
// emerged_step / faded_step (the `features` query), whatever else it matches:
//   - a rising atom (onset > 0) is dated exactly when its feature's
//     emerged_step is the onset's step (within one: ±1 snapshot); an
//     unmatched rising atom is wrong;
//   - an atom on from snapshot 0 whose feature reports an emergence after
//     snapshot 0 is a false late claim;
//   - a fading atom is reported faded when its feature has a faded_step;
//   - an atom that never fades whose feature has a faded_step at or after
//     the atom's onset is a false fade (a fade the feature came back from
//     is not in its answers: emerged again, faded_step is null);
//   - a mass emergence is flagged when some phase transition's onset_step is
//     within one snapshot of it; every other transition is a false alarm;
//   - a feature matched to no atom that reports an emergence is a stray claim;
//     each is listed with the atom nearest to it (the same score) and sorted
//     by that score: a copy (≥ kMatchCosine: a second feature for an atom
//     another feature holds), a partial copy (≥ kPartialCosine) or a
//     direction of no atom; a copy dated at its atom's onset (an atom on from
//     the start: at snapshot 0) dates a real emergence, any other does not;
//   - a matched feature reported strengthened (strengthened_step: its
//     decoder norm rose, its activations say it was there before) counts
//     where the activation evidence overruled the decoder norm: for an atom
//     on from snapshot 0 it turned away a false late claim, for a rising
//     atom it called a true emergence a strengthening.
#ifndef CW_TESTS_ANALYSIS_PLANTED_SCORECARD_H_
#define CW_TESTS_ANALYSIS_PLANTED_SCORECARD_H_

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "examples/planted/planted_dictionary.h"
#include "tests/support/daemon_process.h"

namespace cw::testing {

// A decoder direction this close to an atom is that atom's feature (the
// issue's bar for "recovered"; a two-atom mixture scores ≤ ~0.75).
constexpr double kMatchCosine = 0.9;
// Below this a direction shares less than a quarter of its energy with the
// atom (cos² < 0.25): it is not read as a copy of it.
constexpr double kPartialCosine = 0.5;

// What the daemon reported about one run, read through its queries and
// `conceptwatch export`.
struct DaemonReport {
  nlohmann::json crosscoder;  // "crosscoder" query
  nlohmann::json features;    // "features" query, filter all, no limit
  nlohmann::json phases;      // "phases" query
  // Unit decoder rows per snapshot: directions[t][i] has d_model values (all
  // zero where the row is zero).
  std::vector<std::vector<std::vector<float>>> directions;
};

DaemonReport read_daemon_report(const DaemonProcess& daemon, const std::string& run);

struct Scorecard {
  // At the final snapshot.
  double mean_max_cosine = 0;  // over atoms on there: max |cos| with any decoder row there
  double explained_variance = 0;
  double l0 = 0;
  double planted_l0 = 0;
  // The daemon's held-out rows (crosscoder/held_out_rows.h): NaN where it held none out.
  double held_out_explained_variance = std::nan("");
  bool memorised = false;
  // Emergence of rising atoms.
  int rising = 0, rising_matched = 0, dated_exact = 0, dated_within_one = 0;
  // Atoms on from snapshot 0 (fading, stable and rare).
  int from_start = 0, from_start_matched = 0, late_claims = 0;
  // Where the activation evidence overruled the decoder norm (see above).
  int strengthened_from_start = 0, strengthened_rising = 0;
  int fading = 0, faded = 0;
  // Atoms that never fade (on from their onset to the end), matched, and
  // those whose feature claims a fade while the atom was on
  // (faded_step at or after its onset): a fade that did not happen.
  int lasting_matched = 0, false_fades = 0;
  // Phase transitions.
  std::vector<int64_t> mass_snapshots;
  int mass_flagged = 0, transitions = 0, false_alarms = 0;
  std::vector<uint64_t> transition_steps;
  // Features.
  int live = 0, stray_claims = 0;
  // Stray claims by the atom nearest to them (see above).
  int stray_copies = 0, stray_copies_dated_right = 0, stray_partial = 0;
  // Every wrong claim, to look at: {"atom", "onset_step" (planted; 0 for an
  // atom on from the start), "feature" (-1 unmatched), "cosine",
  // "emerged_step" (claimed, null for none)}; a late claim also has
  // "rivals": the other features whose score for the atom reaches
  // kMatchCosine, best first ({"feature", "cosine", "emerged_step"}).
  std::vector<nlohmann::json> misdated, late;
  std::vector<nlohmann::json> unfaded;  // fading atoms whose matched feature (if any) reports no fade
  // The false fades: {"atom", "onset_step", "feature", "cosine", "faded_step"}.
  std::vector<nlohmann::json> falsely_faded;
  // Every stray claim: {"feature", "emerged_step", "atom" (nearest),
  // "onset_step" (its onset), "cosine", "atom_feature" (the feature matched
  // to that atom, -1 none), "activation_strength_at"}.
  std::vector<nlohmann::json> stray;
  // The activation strength at the claimed snapshot (the feature's
  // emergence_evidence.activation_strength_at; null where unmeasured) of
  // every rising atom dated exactly: how far the data shows a true
  // emergence, beside the stray claims' (their "activation_strength_at").
  std::vector<nlohmann::json> strength_at_exact;
  // The same claims' decoder cosine with the next snapshot (the evidence's
  // decoder_cosine_next; null at the latest snapshot).
  std::vector<nlohmann::json> cosine_next_at_exact;

  double dated_exact_share() const { return rising ? double(dated_exact) / rising : 1.0; }
  double dated_within_one_share() const { return rising ? double(dated_within_one) / rising : 1.0; }
  double late_claim_share() const { return from_start_matched ? double(late_claims) / from_start_matched : 0.0; }
  double l0_ratio() const { return planted_l0 > 0 ? l0 / planted_l0 : 0.0; }
  nlohmann::json to_json() const;
  static Scorecard from_json(const nlohmann::json& json);  // to_json's inverse; throws on a missing key
};

// `step_of(t)` is the training step snapshot t was published at.
Scorecard score_planted(const PlantedDictionary& planted, const DaemonReport& report, uint64_t (*step_of)(int64_t));

}  // namespace cw::testing

#endif  // CW_TESTS_ANALYSIS_PLANTED_SCORECARD_H_
