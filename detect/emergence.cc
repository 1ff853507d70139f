#include "detect/emergence.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cw {

const char* to_string(FeatureEventKind kind) {
  switch (kind) {
    case FeatureEventKind::kEmerged: return "emerged";
    case FeatureEventKind::kFaded: return "faded";
    case FeatureEventKind::kReEmerged: return "re-emerged";
    case FeatureEventKind::kStrengthened: return "strengthened";
  }
  return "unknown";
}

FeatureEventTracker::FeatureEventTracker(EmergenceOptions options) : options_(options) {
  if (!(options_.threshold > 0 && options_.threshold <= 1))
    throw std::invalid_argument("emergence: threshold must be in (0, 1] (values are normalised to max 1)");
  if (!(options_.hysteresis >= 0 && options_.hysteresis <= options_.threshold))
    throw std::invalid_argument("emergence: hysteresis must be in [0, threshold]");
  if (!(options_.absent_frequency >= 0 && options_.absent_ratio >= 0))
    throw std::invalid_argument("emergence: absent_frequency and absent_ratio must be >= 0");
}

std::optional<FeatureEvent> FeatureEventTracker::append(double norm, std::optional<double> frequency) {
  if (!std::isfinite(norm)) throw std::invalid_argument("emergence: normalised norm must be finite");
  if (frequency && !std::isfinite(*frequency)) throw std::invalid_argument("emergence: frequency must be finite");
  if (snapshots_ == 0) {
    with_frequency_ = frequency.has_value();
    if (options_.require_absence_evidence && !with_frequency_)
      throw std::invalid_argument("emergence: require_absence_evidence needs the activation-frequency series");
  } else if (frequency.has_value() != with_frequency_) {
    throw std::invalid_argument("emergence: give the frequency at every snapshot or at none (snapshot " +
                                std::to_string(snapshots_) + ")");
  }

  const size_t snapshot = snapshots_++;
  const double freq = frequency.value_or(0);
  std::optional<FeatureEvent> event;
  if (snapshot == 0) {
    present_ = initially_present_ = norm >= options_.threshold;
  } else if (!present_ && norm >= options_.threshold) {
    FeatureEvent e;
    e.kind = faded_before_ ? FeatureEventKind::kReEmerged : FeatureEventKind::kEmerged;
    e.evidence.absence_confirmed = with_frequency_ && (last_frequency_ <= options_.absent_frequency ||
                                                       last_frequency_ <= options_.absent_ratio * freq);
    if (options_.require_absence_evidence && !e.evidence.absence_confirmed) e.kind = FeatureEventKind::kStrengthened;
    present_ = true;
    event = e;
  } else if (present_ && norm < options_.threshold - options_.hysteresis) {
    FeatureEvent e;
    e.kind = FeatureEventKind::kFaded;
    e.evidence.absence_confirmed = with_frequency_ && freq <= options_.absent_frequency;
    present_ = false;
    faded_before_ = true;
    event = e;
  }
  if (event) {
    event->snapshot = snapshot;
    event->initially_present = initially_present_;
    event->evidence.norm_before = last_norm_;
    event->evidence.norm_at = norm;
    event->evidence.has_frequency = with_frequency_;
    event->evidence.frequency_before = last_frequency_;
    event->evidence.frequency_at = freq;
    events_.push_back(*event);
  }
  last_norm_ = norm;
  last_frequency_ = freq;
  return event;
}

std::optional<size_t> FeatureEventTracker::emerged_at() const {
  if (!present_ || events_.empty()) return std::nullopt;
  return events_.back().snapshot;  // a present feature's last switch was onto present
}

std::vector<FeatureEvent> detect_feature_events(const std::vector<double>& normalised_norm,
                                                const std::vector<double>& frequency,
                                                const EmergenceOptions& options) {
  if (!frequency.empty() && frequency.size() != normalised_norm.size())
    throw std::invalid_argument("emergence: frequency has " + std::to_string(frequency.size()) +
                                " snapshots, the norm series " + std::to_string(normalised_norm.size()));
  FeatureEventTracker tracker(options);
  for (size_t s = 0; s < normalised_norm.size(); ++s)
    tracker.append(normalised_norm[s], frequency.empty() ? std::nullopt : std::optional<double>(frequency[s]));
  return tracker.events();
}

}  // namespace cw
