#include "detect/emergence.h"

#include <algorithm>
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

const char* to_string(EvidenceVerdict verdict) {
  switch (verdict) {
    case EvidenceVerdict::kNone: return "none";
    case EvidenceVerdict::kUnmeasured: return "unmeasured";
    case EvidenceVerdict::kConfirmed: return "confirmed";
    case EvidenceVerdict::kContradicted: return "contradicted";
    case EvidenceVerdict::kEarlier: return "earlier";
  }
  return "unknown";
}

FeatureEventTracker::FeatureEventTracker(EmergenceOptions options) : options_(options) {
  if (!(options_.threshold > 0 && options_.threshold <= 1))
    throw std::invalid_argument("emergence: threshold must be in (0, 1] (values are normalised to max 1)");
  if (!(options_.hysteresis >= 0 && options_.hysteresis <= options_.threshold))
    throw std::invalid_argument("emergence: hysteresis must be in [0, threshold]");
  if (!(options_.activation_fade_below >= 0 && options_.activation_fade_below <= options_.threshold - options_.hysteresis))
    throw std::invalid_argument("emergence: activation_fade_below must be in [0, threshold - hysteresis]");
  if (!(options_.direction_held_cosine >= -1 && options_.direction_held_cosine <= 1))
    throw std::invalid_argument("emergence: direction_held_cosine must be in [-1, 1] (-1: off)");
}

std::optional<FeatureEvent> FeatureEventTracker::append(double norm, std::optional<double> activation) {
  if (!std::isfinite(norm)) throw std::invalid_argument("emergence: normalised norm must be finite");
  if (snapshots_ == 0) {
    with_activation_ = activation.has_value();
  } else if (activation.has_value() != with_activation_) {
    throw std::invalid_argument("emergence: give the activation strength at every snapshot or at none (snapshot " +
                                std::to_string(snapshots_) + ")");
  }

  const size_t snapshot = snapshots_++;
  const double strength = activation.value_or(NAN);
  const double last_activation = snapshot == 0 ? NAN : strengths_.back();
  norms_.push_back(norm);
  strengths_.push_back(strength);
  std::optional<FeatureEvent> event;
  if (snapshot == 0) {
    present_ = initially_present_ = norm >= options_.threshold;
  } else if (!present_ && norm >= options_.threshold &&
             !(faded_by_activations_ && std::isfinite(strength) && strength < options_.threshold)) {
    FeatureEvent e;
    e.kind = faded_before_ ? FeatureEventKind::kReEmerged : FeatureEventKind::kEmerged;
    e.snapshot = snapshot;
    if (with_activation_) {
      // Contradicted: present at s−1 by the activations, or never gone by
      // them (never below the trigger's own fade level) since the feature
      // was last present: weaker, not absent.
      const bool never_gone = !(lowest_while_absent_ < options_.threshold - options_.hysteresis);
      e.evidence.verdict = !std::isfinite(last_activation)                     ? EvidenceVerdict::kUnmeasured
                           : last_activation >= options_.threshold || never_gone ? EvidenceVerdict::kContradicted
                                                                               : EvidenceVerdict::kConfirmed;
    }
    if (options_.activation_evidence && e.evidence.verdict == EvidenceVerdict::kContradicted) {
      const auto switched_on = options_.activation_dates ? activations_switched_on(snapshot) : std::nullopt;
      if (switched_on) {
        e.snapshot = *switched_on;
        e.evidence.verdict = EvidenceVerdict::kEarlier;
      } else {
        e.kind = FeatureEventKind::kStrengthened;
      }
    }
    present_ = true;
    event = e;
  } else if (present_ && (norm < options_.threshold - options_.hysteresis || gone_from_activations(strength))) {
    FeatureEvent e;
    e.kind = FeatureEventKind::kFaded;
    e.snapshot = snapshot;
    faded_by_activations_ = !(norm < options_.threshold - options_.hysteresis);
    if (with_activation_) {
      e.evidence.verdict = !std::isfinite(strength)                                   ? EvidenceVerdict::kUnmeasured
                           : strength < options_.threshold - options_.hysteresis ? EvidenceVerdict::kConfirmed
                                                                                  : EvidenceVerdict::kContradicted;
    }
    present_ = false;
    faded_before_ = true;
    absent_since_ = snapshot;
    event = e;
  }
  if (!present_ && std::isfinite(strength)) lowest_while_absent_ = std::min(lowest_while_absent_, strength);
  if (present_) lowest_while_absent_ = INFINITY;
  if (event) {
    const size_t at = event->snapshot;
    event->initially_present = initially_present_;
    event->evidence.norm_before = at == 0 ? 0 : norms_[at - 1];
    event->evidence.norm_at = norms_[at];
    event->evidence.activation_before = at == 0 ? NAN : strengths_[at - 1];
    event->evidence.activation_at = strengths_[at];
    events_.push_back(*event);
  }
  return event;
}

std::optional<size_t> FeatureEventTracker::activations_switched_on(size_t snapshot) const {
  size_t s = snapshot;
  while (s > absent_since_ && !(strengths_[s - 1] < options_.activation_fade_below)) --s;
  if (s == absent_since_) return std::nullopt;  // never gone (NaN counts as not gone)
  // strengths_[s − 1] is the last gone snapshot: the first at threshold after it.
  for (; s < snapshot; ++s)
    if (strengths_[s] >= options_.threshold) return s;
  return std::nullopt;
}

bool FeatureEventTracker::gone_from_activations(double strength) const {
  return options_.activation_fades && with_activation_ && std::isfinite(strength) &&
         strength < options_.activation_fade_below;
}

std::optional<size_t> FeatureEventTracker::emerged_at() const {
  if (!present_ || events_.empty()) return std::nullopt;
  // A present feature's last switch was onto present; a strengthened one
  // was there before, by the activations.
  if (events_.back().kind == FeatureEventKind::kStrengthened) return std::nullopt;
  return events_.back().snapshot;
}

std::vector<FeatureEvent> detect_feature_events(const std::vector<double>& normalised_norm,
                                                const std::vector<double>& activation_strength,
                                                const EmergenceOptions& options) {
  if (!activation_strength.empty() && activation_strength.size() != normalised_norm.size())
    throw std::invalid_argument("emergence: activation strength has " + std::to_string(activation_strength.size()) +
                                " snapshots, the norm series " + std::to_string(normalised_norm.size()));
  FeatureEventTracker tracker(options);
  for (size_t s = 0; s < normalised_norm.size(); ++s)
    tracker.append(normalised_norm[s],
                   activation_strength.empty() ? std::nullopt : std::optional<double>(activation_strength[s]));
  return tracker.events();
}

}  // namespace cw
