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
//   kStrengthened  an (re-)emergence whose evidence says the feature already
//               fired before (only with require_absence_evidence).
// So "emerged at s" means: crossed threshold at s and has stayed above
// threshold − hysteresis up to the latest snapshot.
//
// Defaults: threshold 0.5 is the midpoint of the rise from ~0 to 1, where an
// S-shaped rise is steepest, so the timestamp is least sensitive to noise on
// either plateau; hysteresis 0.2 (leave only below 0.3) absorbs the snapshot-
// to-snapshot wobble of a live feature's norm without hiding a real fade.
//
// Evidence (arXiv 2504.02922: a crosscoder can shrink a decoder norm where a
// feature is merely weaker): with a per-snapshot activation-frequency series,
// an emergence at s records the frequency at s−1 and s, and says whether the
// feature was really absent at s−1 (frequency <= absent_frequency, or <=
// absent_ratio × the frequency at s); a fade says whether it stopped firing.
//
// Incremental and stable: each snapshot is one O(1) append, and appending
// never changes an event already raised (the events of a prefix are a prefix
// of the events); re-running on a longer series gives the same early events.
#ifndef CW_DETECT_EMERGENCE_H_
#define CW_DETECT_EMERGENCE_H_

#include <cstddef>
#include <optional>
#include <vector>

namespace cw {

struct EmergenceOptions {
  double threshold = 0.5;
  double hysteresis = 0.2;          // in [0, threshold]
  double absent_frequency = 1e-4;   // fires on at most 1 in 10,000 probe tokens
  double absent_ratio = 0.1;
  bool require_absence_evidence = false;  // needs the frequency series
};

enum class FeatureEventKind { kEmerged, kFaded, kReEmerged, kStrengthened };
const char* to_string(FeatureEventKind kind);  // "emerged", "faded", "re-emerged", "strengthened"

struct FeatureEvidence {
  double norm_before = 0;  // normalised norm at snapshot − 1 (0 at snapshot 0)
  double norm_at = 0;
  bool has_frequency = false;
  double frequency_before = 0;
  double frequency_at = 0;
  // Emergence: absent at snapshot − 1. Fade: not firing at the snapshot.
  bool absence_confirmed = false;
};

struct FeatureEvent {
  FeatureEventKind kind = FeatureEventKind::kEmerged;
  size_t snapshot = 0;             // index of the snapshot where it switched
  bool initially_present = false;  // present at snapshot 0 (initialisation feature)
  FeatureEvidence evidence;
};

class FeatureEventTracker {
 public:
  explicit FeatureEventTracker(EmergenceOptions options = {});  // throws std::invalid_argument

  // Appends the next snapshot's value (and frequency, given for every
  // snapshot or for none); returns the event it raised, if any. Throws
  // std::invalid_argument on non-finite input or a frequency given for some
  // snapshots only.
  std::optional<FeatureEvent> append(double normalised_norm, std::optional<double> frequency = std::nullopt);

  size_t size() const { return snapshots_; }
  bool present() const { return present_; }
  bool initially_present() const { return initially_present_; }
  const std::vector<FeatureEvent>& events() const { return events_; }
  // Snapshot where the current presence began by (re-)emergence, if present
  // now and not simply since snapshot 0.
  std::optional<size_t> emerged_at() const;

 private:
  EmergenceOptions options_;
  size_t snapshots_ = 0;
  bool present_ = false;
  bool initially_present_ = false;
  bool faded_before_ = false;
  bool with_frequency_ = false;
  double last_norm_ = 0, last_frequency_ = 0;
  std::vector<FeatureEvent> events_;
};

// The whole series at once (frequency empty or of the same length).
std::vector<FeatureEvent> detect_feature_events(const std::vector<double>& normalised_norm,
                                                const std::vector<double>& frequency = {},
                                                const EmergenceOptions& options = {});

}  // namespace cw

#endif  // CW_DETECT_EMERGENCE_H_
