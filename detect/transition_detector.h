// Phase transitions in a run: change points in aggregate per-snapshot series
// (features_emerging, features_alive, mean_direction_change, surprise,
// training_loss, any scalar the job reports).
//
// Every named series gets its own Bocpd and Cusum, fed online. An alarm from
// either becomes a "move" of that series; moves are merged into one
// Transition when their onsets lie within `merge_window` snapshots of the
// transition's onset, or when the same series keeps moving the same way
// (a new onset at most `merge_window` after its previous alarm: a ramp that
// re-alarms is one transition). Each move is then localised retrospectively
// by PELT over the series' whole history: the PELT change point nearest the
// online onset, within `pelt_window`, confirms it. While a transition is young
// (within `magnitude_window` snapshots of its onset) its moves' sizes and
// PELT confirmation are refreshed every snapshot as more data arrives.
//
// Indices are snapshot indices (0-based order of observe() calls); snapshots
// are log-spaced in steps, so detection works on indices and every index is
// also reported as its training step.
#ifndef CW_DETECT_TRANSITION_DETECTOR_H_
#define CW_DETECT_TRANSITION_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detect/bocpd.h"
#include "detect/cusum.h"
#include "detect/pelt.h"

namespace cw {

struct TransitionOptions {
  BocpdOptions bocpd;
  CusumOptions cusum;
  PeltOptions pelt;
  size_t merge_window = 3;
  size_t pelt_window = 2;
  size_t magnitude_window = 8;  // values each side of an onset used to size a move
  // A series' re-alarm whose move is this many times larger than its move so
  // far starts a new transition instead of continuing the old one.
  double escalation = 4;
};

// Per-series settings, overriding the shared ones.
struct SeriesOptions {
  double min_scale = 0;  // noise floor in series units; for feature counts 1-2 (2: a trickle of single emergences is no shift)
  CusumDirection direction = CusumDirection::kBoth;
  // > 0: a value at or above this is a move by itself, onset and alarm at its
  // own snapshot. For series whose change shows as a one-snapshot spike
  // rather than a new level (a ratio that training brings back to 1, like
  // the crosscoder's surprise), which BOCPD and CUSUM rightly treat as an
  // outlier.
  double spike_above = 0;
};

struct SeriesMove {
  std::string series;
  std::string detectors;  // "bocpd", "cusum" or "bocpd+cusum"
  size_t alarm_index = 0;  // first alarm of this series in the transition
  uint64_t alarm_step = 0;
  size_t last_alarm_index = 0;
  size_t onset_index = 0;  // online estimate: BOCPD's if it alarmed, else the earliest CUSUM onset
  uint64_t onset_step = 0;
  int direction = 0;       // +1 up, -1 down, 0 no level change (e.g. variance only)
  double magnitude = 0;    // median after onset − median before, series units
  double magnitude_sd = 0; // the same in robust noise standard deviations
  std::optional<size_t> pelt_index;  // confirming PELT change point
  uint64_t pelt_step = 0;
};

struct Transition {
  size_t id = 0;           // order raised, from 0
  size_t alarm_index = 0;  // snapshot of the first alarm
  uint64_t alarm_step = 0;
  size_t onset_index = 0;  // earliest onset among its moves
  uint64_t onset_step = 0;
  bool confirmed = false;  // some move has a PELT change point near its onset
  std::optional<size_t> pelt_index;  // PELT's localisation (from the first confirmed move)
  uint64_t pelt_step = 0;
  std::vector<SeriesMove> moves;
};

class TransitionDetector {
 public:
  explicit TransitionDetector(TransitionOptions options = {});  // throws std::invalid_argument on bad options
  ~TransitionDetector();
  TransitionDetector(TransitionDetector&&) noexcept;
  TransitionDetector& operator=(TransitionDetector&&) noexcept;

  // Settings for a series, before its first value (throws std::logic_error after).
  void configure_series(const std::string& name, SeriesOptions options);

  // One snapshot: its training step (strictly increasing) and the values known
  // at it; a series may start late or skip snapshots. Returns the transitions
  // this snapshot raised (moves merged into earlier ones appear in
  // transitions()). Throws std::invalid_argument on a step that does not
  // increase or a non-finite value.
  std::vector<Transition> observe(uint64_t step, const std::map<std::string, double>& values);

  const std::vector<Transition>& transitions() const { return transitions_; }
  const std::vector<uint64_t>& steps() const { return steps_; }

 private:
  struct Series;

  void add_alarm(Series& series, const char* detector, size_t local_onset, int direction,
                 std::vector<size_t>* raised);
  void measure(const Series& series, SeriesMove& move) const;
  void refresh(Transition& transition) const;

  TransitionOptions options_;
  std::map<std::string, SeriesOptions> configured_;
  std::map<std::string, std::unique_ptr<Series>> series_;
  std::vector<uint64_t> steps_;
  std::vector<Transition> transitions_;
};

}  // namespace cw

#endif  // CW_DETECT_TRANSITION_DETECTOR_H_
