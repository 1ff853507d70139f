#include "detect/transition_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "detect/robust_scale.h"

namespace cw {
namespace {

BocpdOptions with_floor(BocpdOptions o, const SeriesOptions& s) {
  o.min_scale = s.min_scale;
  return o;
}

CusumOptions with_floor(CusumOptions o, const SeriesOptions& s) {
  o.min_scale = s.min_scale;
  o.direction = s.direction;
  return o;
}

size_t distance(size_t a, size_t b) { return a > b ? a - b : b - a; }

}  // namespace

struct TransitionDetector::Series {
  Series(std::string name, const SeriesOptions& options, const TransitionOptions& shared)
      : name(std::move(name)),
        options(options),
        bocpd(with_floor(shared.bocpd, options)),
        cusum(with_floor(shared.cusum, options)),
        pelt(shared.pelt) {
    pelt.min_scale = options.min_scale;
  }

  // Position in `values` of the first value at or after a snapshot index.
  size_t local(size_t snapshot) const {
    return static_cast<size_t>(std::lower_bound(snapshots.begin(), snapshots.end(), snapshot) - snapshots.begin());
  }

  std::string name;
  SeriesOptions options;
  Bocpd bocpd;
  Cusum cusum;
  PeltOptions pelt;
  std::vector<double> values;
  std::vector<size_t> snapshots;  // snapshot index of each value
};

TransitionDetector::TransitionDetector(TransitionOptions options) : options_(std::move(options)) {
  // Constructing the detectors once validates the shared options early.
  Bocpd check_bocpd(options_.bocpd);
  Cusum check_cusum(options_.cusum);
  if (options_.pelt.min_segment_length == 0)
    throw std::invalid_argument("TransitionDetector: pelt.min_segment_length must be positive");
}

TransitionDetector::~TransitionDetector() = default;
TransitionDetector::TransitionDetector(TransitionDetector&&) noexcept = default;
TransitionDetector& TransitionDetector::operator=(TransitionDetector&&) noexcept = default;

void TransitionDetector::configure_series(const std::string& name, SeriesOptions options) {
  if (series_.count(name))
    throw std::logic_error("TransitionDetector: series '" + name + "' already has values; configure it before");
  if (!(options.min_scale >= 0)) throw std::invalid_argument("TransitionDetector: min_scale must be >= 0");
  configured_[name] = options;
}

std::vector<Transition> TransitionDetector::observe(uint64_t step, const std::map<std::string, double>& values) {
  if (!steps_.empty() && step <= steps_.back())
    throw std::invalid_argument("TransitionDetector: step " + std::to_string(step) + " does not follow step " +
                                std::to_string(steps_.back()));
  for (const auto& [name, value] : values)
    if (!std::isfinite(value))
      throw std::invalid_argument("TransitionDetector: series '" + name + "' has a non-finite value at step " +
                                  std::to_string(step));

  const size_t snapshot = steps_.size();
  steps_.push_back(step);
  std::vector<size_t> raised;
  for (const auto& [name, value] : values) {
    auto it = series_.find(name);
    if (it == series_.end()) {
      const auto conf = configured_.find(name);
      const SeriesOptions options = conf == configured_.end() ? SeriesOptions{} : conf->second;
      it = series_.emplace(name, std::make_unique<Series>(name, options, options_)).first;
    }
    Series& series = *it->second;
    series.values.push_back(value);
    series.snapshots.push_back(snapshot);
    const BocpdStep b = series.bocpd.observe(value);
    if (b.alarm) add_alarm(series, "bocpd", b.onset, 0, &raised);
    const CusumStep c = series.cusum.observe(value);
    if (c.alarm) add_alarm(series, "cusum", c.onset, c.direction, &raised);
    if (series.options.spike_above > 0 && value >= series.options.spike_above) {
      add_alarm(series, "spike", series.values.size() - 1, +1, &raised);
    }
  }

  for (Transition& t : transitions_)
    if (snapshot - t.onset_index <= options_.magnitude_window) refresh(t);

  std::vector<Transition> out;
  for (size_t id : raised) out.push_back(transitions_[id]);
  return out;
}

void TransitionDetector::add_alarm(Series& series, const char* detector, size_t local_onset, int direction,
                                   std::vector<size_t>* raised) {
  SeriesMove move;
  move.series = series.name;
  move.detectors = detector;
  move.alarm_index = move.last_alarm_index = series.snapshots.back();
  move.onset_index = series.snapshots[local_onset];
  move.direction = direction;
  measure(series, move);

  // Merge into a transition this alarm is part of (latest first).
  for (auto t = transitions_.rbegin(); t != transitions_.rend(); ++t) {
    SeriesMove* same = nullptr;
    for (SeriesMove& m : t->moves)
      if (m.series == series.name) same = &m;
    // A ramp that re-alarms continues its move, unless the new alarm's move
    // is much larger: a slow drift that then turns into a sharp drop (a loss
    // creeping down before an induction head forms, then falling) is two
    // events, and the second is the transition.
    const bool escalates = same && std::fabs(same->magnitude) > 0 &&
                           std::fabs(move.magnitude) > options_.escalation * std::fabs(same->magnitude);
    const bool continuing = same && !escalates &&
                            (same->direction == move.direction || same->direction == 0 || move.direction == 0) &&
                            move.onset_index <= same->last_alarm_index + options_.merge_window;
    if (!continuing && (escalates || distance(move.onset_index, t->onset_index) > options_.merge_window)) continue;
    if (same) {
      const bool first_bocpd = same->detectors == "cusum" && std::string(detector) == "bocpd";
      if (same->detectors.find(detector) == std::string::npos) same->detectors += std::string("+") + detector;
      if (same->detectors == "cusum+bocpd") same->detectors = "bocpd+cusum";
      same->last_alarm_index = move.alarm_index;
      // BOCPD's onset is a posterior mode; CUSUM's "last left zero" runs early
      // when small earlier excesses never drained. Prefer BOCPD's once it
      // speaks, unless it dates a later change (the end of a fall, where the
      // series levels off) after this move's own first alarm.
      const bool prefer_bocpd = first_bocpd && move.onset_index <= same->alarm_index;
      same->onset_index = prefer_bocpd ? move.onset_index : std::min(same->onset_index, move.onset_index);
      if (same->direction == 0) same->direction = move.direction;
    } else {
      t->moves.push_back(move);
    }
    t->onset_index = t->moves.front().onset_index;
    for (const SeriesMove& m : t->moves) t->onset_index = std::min(t->onset_index, m.onset_index);
    refresh(*t);
    return;
  }

  Transition t;
  t.id = transitions_.size();
  t.alarm_index = move.alarm_index;
  t.onset_index = move.onset_index;
  t.moves.push_back(move);
  transitions_.push_back(t);
  refresh(transitions_.back());
  raised->push_back(t.id);
}

void TransitionDetector::measure(const Series& series, SeriesMove& move) const {
  const size_t onset = series.local(move.onset_index);
  const size_t window = options_.magnitude_window;
  move.alarm_step = steps_[move.alarm_index];
  move.onset_step = steps_[move.onset_index];
  if (onset > 0 && onset < series.values.size()) {
    const auto begin = series.values.begin();
    const double before = median(std::vector<double>(begin + (onset > window ? onset - window : 0), begin + onset));
    const double after =
        median(std::vector<double>(begin + onset, begin + std::min(series.values.size(), onset + window)));
    move.magnitude = after - before;
    move.magnitude_sd = move.magnitude / robust_noise_scale(series.values, series.options.min_scale);
    // The level says which way it went once it moved by a noise sd or more;
    // below that, keep what the detector said (BOCPD: 0, e.g. a variance change).
    if (std::fabs(move.magnitude_sd) >= 1) move.direction = move.magnitude > 0 ? +1 : -1;
  }

  move.pelt_index.reset();
  move.pelt_step = 0;
  size_t best = options_.pelt_window + 1;
  for (size_t cp : pelt(series.values, series.pelt).change_points) {
    const size_t d = distance(cp, onset);
    if (d < best) {
      best = d;
      move.pelt_index = series.snapshots[cp];
      move.pelt_step = steps_[*move.pelt_index];
    }
  }
}

void TransitionDetector::refresh(Transition& t) const {
  t.alarm_step = steps_[t.alarm_index];
  t.onset_step = steps_[t.onset_index];
  t.confirmed = false;
  t.pelt_index.reset();
  t.pelt_step = 0;
  for (SeriesMove& m : t.moves) {
    measure(*series_.at(m.series), m);
    if (m.pelt_index && !t.confirmed) {
      t.confirmed = true;
      t.pelt_index = m.pelt_index;
      t.pelt_step = m.pelt_step;
    }
  }
}

}  // namespace cw
