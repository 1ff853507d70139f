#include "query/feature_summary.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <vector>

namespace cw {
namespace {

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

// The cosine of the decoder direction at the snapshot after `s` with the
// one at `s`; NaN at the latest snapshot.
double direction_cosine_next(const FeatureTrajectory& trajectory, std::size_t s) {
  return s + 1 < trajectory.points.size() ? double(trajectory.points[s + 1].cos_previous) : NAN;
}

nlohmann::json evidence_json(const FeatureEvent& event, uint64_t step, const FeatureTrajectory& trajectory) {
  nlohmann::json evidence = {{"verdict", to_string(event.evidence.verdict)},
                             {"kind", to_string(event.kind)},
                             {"step", step},
                             {"normalised_norm_before", event.evidence.norm_before},
                             {"normalised_norm_at", event.evidence.norm_at},
                             {"activation_strength_before", number_or_null(event.evidence.activation_before)},
                             {"activation_strength_at", number_or_null(event.evidence.activation_at)}};
  if (event.kind != FeatureEventKind::kFaded)
    evidence["decoder_cosine_next"] = number_or_null(direction_cosine_next(trajectory, event.snapshot));
  return evidence;
}

// Every entry a letter prefix and a number ("t0", "tok17"): names of
// abstract symbols, not text. Real vocabularies fail at their first entries
// ("!", "\n", "<pad>"), so this rarely reads more than a few.
bool names_placeholders(const std::vector<std::string>& vocabulary) {
  for (const std::string& token : vocabulary) {
    std::size_t letters = 0;
    while (letters < token.size() && std::isalpha(static_cast<unsigned char>(token[letters]))) ++letters;
    if (letters == 0 || letters == token.size()) return false;
    for (std::size_t i = letters; i < token.size(); ++i)
      if (!std::isdigit(static_cast<unsigned char>(token[i]))) return false;
  }
  return true;
}

// An emergence at s that faded at s + 1, with the activations gone (below
// activation_fade_below: "gone, not weaker") at s − 1 and at s + 1: a
// direction of one snapshot. On the planted quiet-then-mass streams these
// are directions of one quiet snapshot's noise, firing on a quarter of the
// probe tokens there and on none elsewhere (docs/CROSSCODER.md "What the
// stray claims are"). NaN strengths (unmeasured) are not gone.
bool is_one_snapshot_direction(std::size_t s, std::size_t fade, const std::vector<double>& strength,
                               const EmergenceOptions& options) {
  if (fade != s + 1 || s == 0 || strength.size() <= fade) return false;
  return strength[s - 1] < options.activation_fade_below && strength[fade] < options.activation_fade_below;
}

// An emergence at s after which the feature stays present (by the norm)
// while its decoder direction turns away (cosine below
// direction_held_cosine): a direction of one snapshot too.
bool turns_at_once(std::size_t s, const FeatureTrajectory& trajectory, const std::vector<double>& norm,
                   const EmergenceOptions& options) {
  if (s + 1 >= norm.size() || norm[s + 1] < options.threshold - options.hysteresis) return false;
  return direction_cosine_next(trajectory, s) < options.direction_held_cosine;
}

}  // namespace

ProbeContext probe_context(const ProbeSet& probe, uint32_t row, int before) {
  ProbeContext context;
  if (probe.sequence_length == 0 || row >= probe.token_ids.size()) return context;
  const uint32_t start = row - std::min<uint32_t>(row % probe.sequence_length, uint32_t(before));
  const bool spaced = probe.vocabulary.empty() || names_placeholders(probe.vocabulary);
  for (uint32_t r = start; r <= row; ++r) {
    const uint32_t id = probe.token_ids[r];
    const std::string token = id < probe.vocabulary.size() ? probe.vocabulary[id] : "<" + std::to_string(id) + ">";
    const std::string shown = token == "\n" ? "\\n" : token;  // the text stays one line
    if (spaced && r > start) context.text += " ";
    context.text += r == row ? "\u00ab" + shown + "\u00bb" : shown;
    context.token_ids.push_back(id);
    context.tokens.push_back(token);
  }
  return context;
}

std::string context_text(const ProbeSet& probe, uint32_t row, int before) {
  return probe_context(probe, row, before).text;
}

FeatureSummary summarise_feature(const FeatureTrajectory& trajectory, const EmergenceOptions& options,
                                 const ProbeSet* probe) {
  std::vector<double> norm, strength;
  bool fires = false;
  for (const auto& point : trajectory.points) {
    norm.push_back(point.normalised_norm);
    strength.push_back(point.activation_strength);
    fires = fires || point.frequency > 0;
  }
  FeatureSummary summary;
  const FeaturePoint& latest = trajectory.points.back();
  // What the answer says of the feature's life; a direction of one snapshot
  // is taken out of it, so the story from before that emergence (an earlier
  // emergence and fade, or a fade from the start) is kept to go back to.
  struct Story {
    nlohmann::json emerged, faded, strengthened, evidence;
  } story, before_last_emergence;
  nlohmann::json transient;
  bool initially = false;
  if (fires) {
    std::optional<std::size_t> last_emergence;  // its snapshot, while the feature is present by it
    std::optional<std::size_t> turned;          // the snapshot of the last emergence that turned at once
    for (const auto& event : detect_feature_events(norm, strength, options)) {
      initially = initially || event.initially_present;
      const uint64_t step = trajectory.points[event.snapshot].step;
      if (event.kind == FeatureEventKind::kEmerged || event.kind == FeatureEventKind::kReEmerged) {
        if (turns_at_once(event.snapshot, trajectory, norm, options)) {
          // Present on, but as another direction: nothing learned at s.
          transient = step;
          turned = event.snapshot;
          last_emergence.reset();
        } else {
          before_last_emergence = story;
          story = {step, nullptr, nullptr, evidence_json(event, step, trajectory)};
          transient = nullptr;
          last_emergence = event.snapshot;
        }
      } else if (event.kind == FeatureEventKind::kStrengthened) {
        // The activations say it was there before: not an emergence, and
        // the fade before it (if any) is doubtful too.
        story.strengthened = step;
        story.faded = nullptr;
        story.evidence = evidence_json(event, step, trajectory);
        last_emergence.reset();
      } else if (event.kind == FeatureEventKind::kFaded) {
        // The turned direction's own fade at s + 1 (by the activations:
        // the norm stayed up) is part of that transient, as a direction of
        // one snapshot's fade is: the story before it stands.
        if (turned && event.snapshot == *turned + 1) continue;
        story.faded = step;
        if (last_emergence && is_one_snapshot_direction(*last_emergence, event.snapshot, strength, options)) {
          // Present at one snapshot only, by the norm and by the
          // activations: not something learned since then.
          transient = story.emerged;
          story = before_last_emergence;
        }
        last_emergence.reset();
      }
    }
    initially = initially || (!norm.empty() && norm[0] >= options.threshold);
  }
  summary.emerged_step = story.emerged.is_null() ? INFINITY : story.emerged.get<double>();
  summary.strength = latest.decoder_norm;
  summary.contextuality = latest.contextuality;
  summary.json = {{"feature", trajectory.feature},
                  {"live", fires},
                  {"emerged_step", story.emerged},
                  {"strengthened_step", story.strengthened},
                  {"transient_step", transient},
                  {"faded_step", story.faded},
                  {"initially_present", initially},
                  {"present", fires && latest.normalised_norm >= options.threshold && latest.frequency > 0},
                  {"decoder_norm", latest.decoder_norm},
                  {"normalised_norm", latest.normalised_norm},
                  {"activation_strength", number_or_null(latest.activation_strength)},
                  {"frequency", latest.frequency},
                  {"max_activation", latest.max_activation},
                  {"contextuality", number_or_null(latest.contextuality)},
                  {"emergence_evidence", story.evidence}};
  if (probe && !trajectory.top_contexts.empty()) {
    summary.json["top_context"] = context_text(*probe, trajectory.top_contexts.front().token_index);
  }
  return summary;
}

}  // namespace cw
