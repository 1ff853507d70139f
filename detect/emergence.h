// When a feature appears, fades and comes back, from its normalised decoder
// norm over snapshots (1 at the feature's strongest snapshot).
//
// A Schmitt trigger: a feature becomes present when its value reaches
// `threshold` and stays present until it falls below threshold − hysteresis;
// absent, it must reach `threshold` again. The state at snapshot 0 is present
// iff value >= threshold (the paper's initialisation features). Events are
// the trigger's switches:
//   kEmerged    absent -> present, never faded before;
//   kFaded      present -> absent;
//   kReEmerged  absent -> present after a fade;
//   kStrengthened  an emergence the activations contradict: the feature was
//               already there at s−1 and not gone from them since it was
//               last present (see Evidence).
// So "emerged at s" means: crossed threshold at s (or its activations did,
// with activation_dates below) and has stayed above threshold − hysteresis
// up to the latest snapshot.
//
// Defaults: threshold 0.5 is the midpoint of the rise from ~0 to 1, where an
// S-shaped rise is steepest, so the timestamp is least sensitive to noise on
// either plateau; hysteresis 0.2 (leave only below 0.3) absorbs the snapshot-
// to-snapshot wobble of a live feature's norm without hiding a real fade.
//
// Evidence: the decoder norm is the crosscoder's choice of how to split the
// data, and it can shrink where a feature is merely weaker or was picked up
// late (arXiv 2504.02922). A second series, the feature's activation
// strength (crosscoder/emergence_evidence.h: its signal in the activations
// themselves, on the normalised norm's scale, 1 at its strongest snapshot),
// asks the data the trigger's own questions: was the feature present at
// s−1, and was it ever gone? An emergence at s is contradicted, and with
// `activation_evidence` reported as kStrengthened, when its activation
// strength at s−1 reaches `threshold`, or when the strength never fell
// below the trigger's own fade level (threshold − hysteresis) since the
// feature was last present (or since snapshot 0): weaker, not absent. The
// same levels, because the two series share a scale: a true switch-on
// measures ~0 at s−1, a feature present all along ~1, and an atom present
// all along whose feature peaked at one quiet snapshot 0.36–0.46 before it
// (tests/detect/emergence_test.cc, tests/crosscoder/emergence_evidence_test.cc,
// docs/CROSSCODER.md "Emergence evidence").
// With `activation_dates` (off by default), a contradicted emergence whose
// activations were gone (below `activation_fade_below`) at some snapshot b
// since the feature was last present is dated where they switched on after
// b (the first snapshot with strength >= threshold): an emergence the
// decoder norm saw late, verdict kEarlier; the event is raised at s, dated
// earlier.
// A fade is confirmed when the activation strength at the fade is below
// threshold − hysteresis; with `activation_fades` a strength below
// `activation_fade_below` fades a feature whose norm stayed up (the activations' fade, verdict confirmed). NaN strength (unmeasurable) leaves the event as the
// norm says, marked unmeasured. (A firing-frequency series is no evidence:
// with a shared pre-activation the frequency at t is P(h > τ/‖W_D^t‖),
// fixed by the decoder norm itself.)
//
// Incremental and stable: each snapshot is one O(1) append (a contradicted
// emergence walks back over the snapshots since the feature was last
// present), and appending
// never changes an event already raised (the events of a prefix are a prefix
// of the events); re-running on a longer series gives the same early events.
#ifndef CW_DETECT_EMERGENCE_H_
#define CW_DETECT_EMERGENCE_H_

#include <cmath>
#include <cstddef>
#include <optional>
#include <vector>

namespace cw {

struct EmergenceOptions {
  double threshold = 0.5;
  double hysteresis = 0.2;          // in [0, threshold]
  // true (default): a contradicted emergence is kStrengthened. false: kept
  // as the norm says, the contradiction recorded and shown. On by default:
  // on the nine planted streams (docs/CROSSCODER.md "Emergence evidence") it
  // cut late claims of atoms present from snapshot 0 from 14 to 2 of 174
  // with exact dating unchanged (334 vs 333 of 409); on the quiet-then-mass
  // stream at six seeds it changed no rising atom's date (167 of 168 exact
  // either way). A true switch-on reads < 0.15 at s−1, so it stays emerged.
  bool activation_evidence = true;
  // true (default): a present feature also fades where its activation
  // strength falls below threshold − hysteresis while its decoder norm stays
  // up, and it returns only once both are back at threshold. Why: online,
  // a new head starts as a copy of the one before and the reference
  // estimator sends no gate gradient into ‖W_D‖, so after an atom fades its
  // feature can keep ~0.4-0.55 of its norm at every later head, still
  // decoding the absent atom (planted streams: 1 of the 2 fading atoms of
  // the PlantedScience stream, feature norm 0.55 at every head after the
  // fade; the activations there measure ~0). A feature present all along
  // measures near 1 (tests/crosscoder/emergence_evidence_test.cc).
  bool activation_fades = true;
  // With activation_fades, a feature whose decoder norm stays at or above
  // threshold − hysteresis fades by its activations only where their
  // strength is below this: gone, not weaker. Why 0.15: a true switch-on
  // reads < 0.15 at s − 1 (absent on the activations' scale), and the
  // planted fade this rule is for measured ~0 (0.02–0.05); on the tinygpt
  // demo (rotary, seed 0) 31 of 33 activations' fades had a strength of
  // 0.17–0.30 with the norm at 0.42–0.88 — init features weaker in mid-
  // training, back at the induction transition — and each came back as a
  // "re-emerged" claim (tests/detect/emergence_test.cc has a case on each
  // side). The norm's own fade (below threshold − hysteresis) is unchanged.
  double activation_fade_below = 0.15;  // in [0, threshold − hysteresis]
  // true: with activation_evidence, an emergence the activations contradict
  // at s−1 but that they show switching on from gone (below
  // activation_fade_below) at an earlier snapshot since the feature was last
  // present is dated where they switched on, not reported strengthened. Why
  // one would: a latent that takes over an atom from a duplicate at s has a
  // decoder norm of ~0 before s while the atom's own switch-on, seen by the
  // activations (~0 before it, ~1 from it), is earlier (qtm/d48/s61: 3
  // rising atoms read ~0.02 before their onset and 1.06–1.43 from it while
  // the norm rose 1–3 snapshots later). Off by default, measured: on 15
  // planted streams it dated 4–7 more rising atoms exactly and made no late
  // claim, but it also dated the duplicates and partial copies of rising
  // atoms (features matching no atom, firing on a few tokens) where those
  // atoms rose: stray claims up by half or more (docs/CROSSCODER.md
  // "Emergences the activations date earlier").
  bool activation_dates = false;
  // Read by the answers (query/feature_summary.h), not by the tracker: an
  // emergence at s whose decoder direction at s + 1, with the feature still
  // present there, has a cosine below this with its direction at s is a
  // direction of one snapshot (reported transient, not emerged), as one
  // that fades at s + 1 is. The latent did not learn a feature at s: it
  // moved on to another direction at once (planted quiet-then-mass
  // streams: latents mixing several atoms, one per snapshot, whose
  // emergence was credited to an atom present from the start; a planted
  // atom's own latent keeps its direction from its onset). Why 0.5 and a
  // case on each side: docs/CROSSCODER.md "Directions that turn at once".
  // −1 turns the rule off.
  double direction_held_cosine = 0.5;  // in [−1, 1]
};

enum class FeatureEventKind { kEmerged, kFaded, kReEmerged, kStrengthened };
const char* to_string(FeatureEventKind kind);  // "emerged", "faded", "re-emerged", "strengthened"

// What the activations say about an event.
enum class EvidenceVerdict {
  kNone,          // no activation-strength series was given
  kUnmeasured,    // given, but NaN where it was needed
  kConfirmed,     // emergence: absent at snapshot − 1; fade: gone at the snapshot
  kContradicted,  // emergence: already present at snapshot − 1; fade: still there
  kEarlier,       // emergence: switched on in the activations before the norm rose (activation_dates: dated there)
};
const char* to_string(EvidenceVerdict verdict);  // "none", "unmeasured", "confirmed", "contradicted", "earlier"

// At the event's snapshot (for an emergence dated by its activations, the
// snapshot they date it at).
struct FeatureEvidence {
  double norm_before = 0;  // normalised norm at snapshot − 1 (0 at snapshot 0)
  double norm_at = 0;
  double activation_before = NAN;  // activation strength at snapshot − 1
  double activation_at = NAN;
  EvidenceVerdict verdict = EvidenceVerdict::kNone;
};

struct FeatureEvent {
  FeatureEventKind kind = FeatureEventKind::kEmerged;
  size_t snapshot = 0;             // index of the snapshot where it switched (an earlier one: verdict kEarlier)
  bool initially_present = false;  // present at snapshot 0 (initialisation feature)
  FeatureEvidence evidence;
};

class FeatureEventTracker {
 public:
  explicit FeatureEventTracker(EmergenceOptions options = {});  // throws std::invalid_argument

  // Appends the next snapshot's value (and activation strength, given for
  // every snapshot or for none; NaN = unmeasured); returns the event it
  // raised, if any. Throws std::invalid_argument on a non-finite norm or a
  // strength given for some snapshots only.
  std::optional<FeatureEvent> append(double normalised_norm, std::optional<double> activation_strength = std::nullopt);

  size_t size() const { return snapshots_; }
  bool present() const { return present_; }
  bool initially_present() const { return initially_present_; }
  const std::vector<FeatureEvent>& events() const { return events_; }
  // Snapshot where the current presence began by (re-)emergence, if present
  // now and not simply since snapshot 0.
  std::optional<size_t> emerged_at() const;

 private:
  bool gone_from_activations(double strength) const;
  // Where the activations switched the feature on, for an emergence at
  // `snapshot` they contradict: the first snapshot with strength >=
  // threshold after the last one below activation_fade_below since the
  // feature was last present; nullopt where they were never gone there.
  std::optional<size_t> activations_switched_on(size_t snapshot) const;

  EmergenceOptions options_;
  size_t snapshots_ = 0;
  bool present_ = false;
  bool initially_present_ = false;
  bool faded_before_ = false;
  bool faded_by_activations_ = false;  // the last fade was the activations' (the norm stayed up)
  bool with_activation_ = false;
  size_t absent_since_ = 0;  // first snapshot of the current absence (the last fade, or 0)
  std::vector<double> norms_, strengths_;
  // The smallest finite activation strength since the feature was last
  // present (or since snapshot 0), up to the latest snapshot; INFINITY while
  // present or before any was measured.
  double lowest_while_absent_ = INFINITY;
  std::vector<FeatureEvent> events_;
};

// The whole series at once (activation strength empty or of the same length).
std::vector<FeatureEvent> detect_feature_events(const std::vector<double>& normalised_norm,
                                                const std::vector<double>& activation_strength = {},
                                                const EmergenceOptions& options = {});

}  // namespace cw

#endif  // CW_DETECT_EMERGENCE_H_
