#include "detect/transition_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <utility>

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

bool allowed(CusumDirection direction, int move) {
  if (direction == CusumDirection::kUp) return move > 0;
  if (direction == CusumDirection::kDown) return move < 0;
  return true;
}

void add_detector(SeriesMove& move, const char* detector) {
  if (move.detectors.find(detector) != std::string::npos) return;
  move.detectors += move.detectors.empty() ? detector : std::string("+") + detector;
}

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
  // Position of the last value at or before a snapshot index (values non-empty).
  size_t local_last(size_t snapshot) const {
    const auto it = std::upper_bound(snapshots.begin(), snapshots.end(), snapshot);
    return it == snapshots.begin() ? 0 : static_cast<size_t>(it - snapshots.begin()) - 1;
  }
  // Median of the `window` values before position `at` (at > 0).
  double level_before(size_t at, size_t window) const {
    const auto begin = values.begin();
    return median(std::vector<double>(begin + (at > window ? at - window : 0), begin + at));
  }
  // Change from the value before `onset` to the newest value, signed.
  double signed_change_since(size_t onset) const {
    if (onset >= values.size()) return 0;
    return values.back() - values[onset > 0 ? onset - 1 : 0];
  }
  double change_since(size_t onset) const { return std::fabs(signed_change_since(onset)); }
  // The same per value: how steep the series has been since `onset`.
  double rate_since(size_t onset) const {
    return onset < values.size() ? change_since(onset) / static_cast<double>(values.size() - onset) : 0;
  }

  std::string name;
  SeriesOptions options;
  Bocpd bocpd;
  Cusum cusum;
  PeltOptions pelt;
  std::vector<double> values;
  std::vector<size_t> snapshots;  // snapshot index of each value

  // Its current move while it is not part of a transition (too small so far).
  std::optional<SeriesMove> pending;
  // A pending move that escalated from a move already in a transition: it
  // becomes a transition of its own.
  bool escalated = false;
  // Its latest move inside a transition: (transition id, position in moves).
  std::optional<std::pair<size_t, size_t>> attached;
};

TransitionDetector::TransitionDetector(TransitionOptions options) : options_(std::move(options)) {
  // Constructing the detectors once validates the shared options early.
  Bocpd check_bocpd(options_.bocpd);
  Cusum check_cusum(options_.cusum);
  if (options_.pelt.min_segment_length == 0)
    throw std::invalid_argument("TransitionDetector: pelt.min_segment_length must be positive");
  if (options_.settled_values == 0 || options_.magnitude_window == 0)
    throw std::invalid_argument("TransitionDetector: settled_values and magnitude_window must be positive");
}

TransitionDetector::~TransitionDetector() = default;
TransitionDetector::TransitionDetector(TransitionDetector&&) noexcept = default;
TransitionDetector& TransitionDetector::operator=(TransitionDetector&&) noexcept = default;

void TransitionDetector::configure_series(const std::string& name, SeriesOptions options) {
  if (series_.count(name))
    throw std::logic_error("TransitionDetector: series '" + name + "' already has values; configure it before");
  if (!(options.min_scale >= 0)) throw std::invalid_argument("TransitionDetector: min_scale must be >= 0");
  if (!(options.min_move >= 0)) throw std::invalid_argument("TransitionDetector: min_move must be >= 0");
  if (!(options.spike_over_level >= 0 && std::isfinite(options.spike_over_level)))
    throw std::invalid_argument("TransitionDetector: spike_over_level must be finite and >= 0");
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
    if (b.alarm) add_alarm(series, "bocpd", b.onset, 0);
    const CusumStep c = series.cusum.observe(value);
    if (c.alarm) add_alarm(series, "cusum", c.onset, c.direction);
    if (series.options.spike_above > 0 && value >= series.options.spike_above)
      add_alarm(series, "spike", series.values.size() - 1, +1);
  }

  // Small moves grow or expire; large enough ones become transitions (in
  // name order: a move's joining depends on the moves already in a
  // transition). A series that only joins and found nothing to join tries
  // again after the others, to join what this snapshot raised.
  std::vector<size_t> raised;
  for (auto& [name, series] : series_) {
    if (!series->pending) continue;
    if (snapshot > series->pending->last_alarm_index + options_.magnitude_window) {
      series->pending.reset();
      continue;
    }
    measure(*series, *series->pending);
    promote(*series, &raised);
  }
  if (!raised.empty())
    for (auto& [name, series] : series_)
      if (series->pending && only_joins(*series, *series->pending)) promote(*series, &raised);
  for (Transition& t : transitions_)
    if (snapshot <= t.last_alarm_index + options_.magnitude_window) refresh(t);

  std::vector<Transition> out;
  for (size_t id : raised) out.push_back(transitions_[id]);
  return out;
}

void TransitionDetector::add_alarm(Series& series, const char* detector, size_t local_onset, int direction) {
  const size_t now = series.snapshots.back();
  const size_t onset = series.snapshots[local_onset];
  SeriesMove* current = series.pending                                ? &*series.pending
                        : series.attached                             ? &transitions_[series.attached->first]
                                                                             .moves[series.attached->second]
                                                                      : nullptr;
  const bool continuing = current && onset <= current->last_alarm_index + options_.merge_window;
  // A re-alarm that moved the series by less than half a transition is its
  // tail (a loss still easing down after it fell) or noise: it neither
  // extends the move nor starts one, so small drifts do not add up.
  if (continuing && series.change_since(local_onset) < series.options.min_move / 2) return;
  if (continuing) {
    const double rate = series.rate_since(local_onset);
    const size_t move_onset = series.local(current->onset_index);
    const double move_rate = series.rate_since(move_onset);
    // Only a steepening the same way: a series falling back sharply from
    // its move (the crosscoder catching up after a surprise) continues it.
    const bool same_way = series.signed_change_since(local_onset) * series.signed_change_since(move_onset) > 0;
    const bool escalates = move_rate > 0 && rate >= options_.escalation * move_rate && same_way;
    if (!escalates) {
      add_detector(*current, detector);
      current->last_alarm_index = now;
      current->onset_index = std::min(current->onset_index, onset);
      if (current->direction == 0) current->direction = direction;
      if (!series.pending) {
        Transition& t = transitions_[series.attached->first];
        t.last_alarm_index = std::max(t.last_alarm_index, now);
      }
      return;
    }
    // A drift that turned into a sharp move: the move begins here.
    if (!series.pending) series.escalated = true;
  } else {
    series.escalated = false;
  }
  SeriesMove move;
  move.series = series.name;
  move.detectors = detector;
  move.alarm_index = move.last_alarm_index = now;
  move.onset_index = onset;
  move.direction = direction;
  series.pending = move;
}

void TransitionDetector::promote(Series& series, std::vector<size_t>* raised) {
  if (!series.pending || !series.pending->large_enough) return;
  SeriesMove move = *series.pending;
  series.pending.reset();
  const bool escalated = std::exchange(series.escalated, false);

  // Join a transition still open that it overlaps in time (latest first).
  // The sharp continuation of a drift already in a transition is a new one,
  // unless other series moved in that transition at the same time as the
  // sharp part: then it is part of their change (tinygpt: the training
  // loss drifting from step 160, then falling with the second-copy loss and
  // the induction scores at 380-420).
  const size_t now = steps_.size() - 1;
  for (size_t id = transitions_.size(); id-- > 0;) {
    Transition& t = transitions_[id];
    const bool open = now <= t.last_alarm_index + options_.magnitude_window;
    if (!open || move.onset_index > t.last_alarm_index + options_.merge_window ||
        move.last_alarm_index + options_.merge_window < t.began_index)
      continue;
    const bool others_with_it = std::any_of(t.moves.begin(), t.moves.end(), [&](const SeriesMove& m) {
      return m.series != series.name && m.last_alarm_index + options_.merge_window >= move.onset_index;
    });
    if (escalated && !others_with_it) continue;
    size_t position = t.moves.size();
    for (size_t i = 0; i < t.moves.size(); ++i)
      if (t.moves[i].series == series.name) position = i;
    if (position == t.moves.size()) {
      t.moves.push_back(move);
    } else {
      SeriesMove& same = t.moves[position];
      for (const char* d : {"bocpd", "cusum", "spike"})
        if (move.detectors.find(d) != std::string::npos) add_detector(same, d);
      same.onset_index = std::min(same.onset_index, move.onset_index);
      same.last_alarm_index = std::max(same.last_alarm_index, move.last_alarm_index);
    }
    series.attached = std::make_pair(id, position);
    refresh(t);
    return;
  }
  if (only_joins(series, move)) {  // alone: it waits for another series' move
    series.pending = move;
    series.escalated = escalated;
    return;
  }

  Transition t;
  t.id = transitions_.size();
  t.alarm_index = now;
  t.moves.push_back(move);
  transitions_.push_back(t);
  series.attached = std::make_pair(t.id, size_t{0});
  refresh(transitions_.back());
  raised->push_back(t.id);
}

bool TransitionDetector::only_joins(const Series& series, const SeriesMove& move) const {
  return series.options.joins_only || move.alarm_index > move.onset_index + options_.magnitude_window;
}

void TransitionDetector::measure(const Series& series, SeriesMove& move) const {
  const size_t window = options_.magnitude_window;
  const size_t onset = series.local(move.onset_index);
  const size_t end = series.local_last(move.last_alarm_index + window);
  move.alarm_step = steps_[move.alarm_index];
  move.onset_step = steps_[move.onset_index];
  move.halfway_index = move.onset_index;
  move.magnitude = move.magnitude_sd = 0;
  bool spike_high_enough = series.options.spike_above <= 0;
  if (onset > 0 && onset <= end) {
    const auto begin = series.values.begin();
    const double before = series.level_before(onset, window);
    // A spike's size is its height; a level's is where it settled.
    const bool spike_series = series.options.spike_above > 0;
    const size_t peak = spike_series ? std::max_element(begin + onset, begin + end + 1) - begin : onset;
    const double after =
        spike_series ? series.values[peak]
                     : median(std::vector<double>(
                           begin + std::max(onset, end + 1 - std::min(end + 1, options_.settled_values)), begin + end + 1));
    // A spike is measured against the level just before it, not before the
    // move's onset: a series that climbed for several snapshots before it
    // spiked was already high.
    if (spike_series && after >= series.options.spike_above)
      spike_high_enough = after >= series.options.spike_over_level * series.level_before(peak, window);
    move.magnitude = after - before;
    move.magnitude_sd = move.magnitude / robust_noise_scale(series.values, series.options.min_scale);
    // The level says which way it went once it moved by a noise sd or more;
    // below that, keep what the detector said (BOCPD: 0, e.g. a variance change).
    if (std::fabs(move.magnitude_sd) >= 1) move.direction = move.magnitude > 0 ? +1 : -1;
    const double half = before + move.magnitude / 2;
    for (size_t i = onset; i <= end; ++i) {
      if (move.magnitude > 0 ? series.values[i] >= half : series.values[i] <= half) {
        move.halfway_index = series.snapshots[i];
        break;
      }
    }
  }
  move.halfway_step = steps_[move.halfway_index];
  // On a spike series BOCPD and CUSUM may alarm on smaller bumps; only a
  // spike reaching spike_above is a transition there.
  move.large_enough = spike_high_enough && std::fabs(move.magnitude) >= series.options.min_move &&
                      allowed(series.options.direction, move.direction);

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
  t.confirmed = false;
  t.pelt_index.reset();
  t.pelt_step = 0;
  std::vector<size_t> halfway;
  t.began_index = t.moves.front().onset_index;
  t.last_alarm_index = t.alarm_index;
  for (SeriesMove& m : t.moves) {
    measure(*series_.at(m.series), m);
    halfway.push_back(m.halfway_index);
    t.began_index = std::min(t.began_index, m.onset_index);
    t.last_alarm_index = std::max(t.last_alarm_index, m.last_alarm_index);
    if (m.pelt_index && !t.confirmed) {
      t.confirmed = true;
      t.pelt_index = m.pelt_index;
      t.pelt_step = m.pelt_step;
    }
  }
  // The lower median: with two moves, the earlier of the two.
  std::nth_element(halfway.begin(), halfway.begin() + (halfway.size() - 1) / 2, halfway.end());
  t.halfway_index = halfway[(halfway.size() - 1) / 2];
  t.alarm_step = steps_[t.alarm_index];
  t.began_step = steps_[t.began_index];
  t.halfway_step = steps_[t.halfway_index];
}

}  // namespace cw
