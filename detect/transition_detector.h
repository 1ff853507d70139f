// Phase transitions in a run: change points in aggregate per-snapshot series
// (mean direction change, surprise, the job's losses and task scores, any
// scalar the job reports).
//
// Every named series gets its own Bocpd and Cusum, fed online. An alarm opens
// a "move" of that series, or continues the series' current move when it
// comes within `merge_window` snapshots of the move's last alarm (a ramp that
// keeps alarming is one move). A move is measured against the series' level
// before it began: magnitude = the level it has settled to (median of its
// last `settled_values` values) minus the median of the `magnitude_window`
// values before its onset. Only a move at least `min_move` large (series
// units, per series) is a transition: the detectors judge a change against
// the series' noise, and a smooth training curve has so little noise that
// its every bend is "significant" — a 0.01-nat wobble of a loss is real but
// is not a phase transition. A smaller move is kept and re-measured while it
// is young and becomes one if it grows.
//
// A move the detectors first flag more than `magnitude_window` snapshots
// after its onset is a drift that added up, not a change: it joins a
// transition another series raised, as a joining series does, but raises
// none (tinygpt: every move of a right transition was flagged within 8
// snapshots of its onset, planted streams' at it; a job's ICL score easing
// on for 400 steps after its transition was flagged 20 snapshots late, and
// measured against a level from before the transition it read as a new one).
//
// Moves large enough are merged into one Transition when they overlap in
// time (onset within `merge_window` of the transition's span). A transition
// reports when its series began to move (earliest onset), when it was raised,
// and its step: the median over its moves of the first snapshot at which the
// move was half done. For an abrupt change that is the change itself; for an
// S-shaped one (a loss that bends, falls for ten snapshots and levels off)
// it is the steep middle rather than the first bend. Each move is also
// localised retrospectively by PELT over the series' whole history: a PELT
// change point within `pelt_window` of its onset confirms it. While a
// transition is young (within `magnitude_window` snapshots of its last
// alarm) its moves are re-measured every snapshot as more data arrives.
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
  size_t magnitude_window = 8;  // values before an onset that give the level before
  size_t settled_values = 3;    // last values of a move that give the level it moved to
  // A re-alarm this many times steeper (change per snapshot) than its
  // series' move so far restarts the move at its own onset: a slow drift
  // that turns into a sharp drop (a loss creeping down before an induction
  // head forms, then falling) began at the drop. If the drift was already a
  // transition, the drop is a new one. Only a change the same way as the
  // move escalates it; a sharp fall back continues it.
  double escalation = 4;
};

// Per-series settings, overriding the shared ones.
struct SeriesOptions {
  double min_scale = 0;  // noise floor in series units; for feature counts 1-2 (2: a trickle of single emergences is no shift)
  // Which way a move must go to count (kUp: only rises are transitions).
  CusumDirection direction = CusumDirection::kBoth;
  // > 0: a value at or above this is a move by itself, onset and alarm at its
  // own snapshot. For series whose change shows as a one-snapshot spike
  // rather than a new level (a ratio that training brings back to 1, like
  // the crosscoder's surprise), which BOCPD and CUSUM rightly treat as an
  // outlier. Only a spike this high is a transition on such a series (its
  // BOCPD and CUSUM alarms on smaller bumps are not); its size is its height
  // above the level before.
  double spike_above = 0;
  // > 0: a spike must also be at least this many times the series' level
  // just before it (the median of the `magnitude_window` values before its
  // highest value). A ratio that training brings back to 1 sits far above 1 while
  // everything changes fast (a young model early in training), and a spike
  // there is no shift of regime; the same height after a calm stretch is.
  double spike_over_level = 0;
  // The smallest move (|after − before|, series units) that is a transition.
  double min_move = 0;
  // true: a move of this series joins a transition another series raised
  // (or raises in the same snapshot, or within the move's life: it waits,
  // pending, up to `magnitude_window` snapshots after its last alarm), but
  // never raises one alone. For a corroborating series whose lone moves
  // have been the detector's own churn, not the run's. Joining is tried in
  // series-name order like every move, then once more after the others:
  // another series' move that continues a transition sharply joins it only
  // if some other series moved with it (TransitionDetector::promote), and a
  // joining series counts, as it did before it only joined.
  bool joins_only = false;
};

struct SeriesMove {
  std::string series;
  std::string detectors;  // "bocpd", "cusum", "spike", joined by '+'
  size_t alarm_index = 0;  // first alarm of this move
  uint64_t alarm_step = 0;
  size_t last_alarm_index = 0;
  size_t onset_index = 0;  // where the series began to move (the detectors' onset)
  uint64_t onset_step = 0;
  size_t halfway_index = 0;  // first snapshot at which half of the move was done
  uint64_t halfway_step = 0;
  int direction = 0;       // +1 up, -1 down, 0 no level change (e.g. variance only)
  double magnitude = 0;    // level moved to − level before, series units
  double magnitude_sd = 0; // the same in robust noise standard deviations
  bool large_enough = false;  // |magnitude| >= min_move, in an allowed direction
  std::optional<size_t> pelt_index;  // confirming PELT change point
  uint64_t pelt_step = 0;
};

struct Transition {
  size_t id = 0;           // order raised, from 0
  size_t alarm_index = 0;  // snapshot at which it was raised: its first move large enough
  uint64_t alarm_step = 0;
  size_t began_index = 0;  // earliest onset among its moves
  uint64_t began_step = 0;
  // The transition's step: the median of its moves' half-way points (events
  // and queries call it "onset_step").
  size_t halfway_index = 0;
  uint64_t halfway_step = 0;
  size_t last_alarm_index = 0;  // latest alarm of any of its moves
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

  void add_alarm(Series& series, const char* detector, size_t local_onset, int direction);
  void promote(Series& series, std::vector<size_t>* raised);
  // The series only joins (SeriesOptions::joins_only), or the move was first
  // flagged more than magnitude_window snapshots after its onset (a drift).
  bool only_joins(const Series& series, const SeriesMove& move) const;
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
