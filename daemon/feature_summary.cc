#include "daemon/feature_summary.h"

#include <algorithm>
#include <vector>

namespace cw {
namespace {

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

std::string context_text(const ProbeSet& probe, uint32_t row, int before) {
  if (probe.sequence_length == 0 || row >= probe.token_ids.size()) return "";
  const uint32_t start = row - std::min<uint32_t>(row % probe.sequence_length, uint32_t(before));
  std::string text;
  for (uint32_t r = start; r <= row; ++r) {
    const uint32_t id = probe.token_ids[r];
    std::string token = id < probe.vocabulary.size() ? probe.vocabulary[id] : "<" + std::to_string(id) + ">";
    if (!probe.vocabulary.empty() && token.size() == 1 && token[0] == '\n') token = "\\n";
    if (probe.vocabulary.empty() && r > start) text += " ";
    text += r == row ? "\u00ab" + token + "\u00bb" : token;
  }
  return text;
}

FeatureSummary summarise_feature(const FeatureTrajectory& trajectory, const EmergenceOptions& options,
                                 const ProbeSet* probe) {
  std::vector<double> norm, frequency;
  bool fires = false;
  for (const auto& point : trajectory.points) {
    norm.push_back(point.normalised_norm);
    frequency.push_back(point.frequency);
    fires = fires || point.frequency > 0;
  }
  FeatureSummary summary;
  const FeaturePoint& latest = trajectory.points.back();
  nlohmann::json emerged, faded;
  bool initially = false;
  if (fires) {
    for (const auto& event : detect_feature_events(norm, frequency, options)) {
      initially = initially || event.initially_present;
      const uint64_t step = trajectory.points[event.snapshot].step;
      if (event.kind == FeatureEventKind::kEmerged || event.kind == FeatureEventKind::kReEmerged) {
        emerged = step;
        faded = nullptr;
        summary.emerged_step = double(step);
      } else if (event.kind == FeatureEventKind::kFaded) {
        faded = step;
      }
    }
    initially = initially || (!norm.empty() && norm[0] >= options.threshold);
  }
  summary.strength = latest.decoder_norm;
  summary.contextuality = latest.contextuality;
  summary.json = {{"feature", trajectory.feature},
                  {"live", fires},
                  {"emerged_step", emerged},
                  {"faded_step", faded},
                  {"initially_present", initially},
                  {"present", fires && latest.normalised_norm >= options.threshold && latest.frequency > 0},
                  {"decoder_norm", latest.decoder_norm},
                  {"normalised_norm", latest.normalised_norm},
                  {"frequency", latest.frequency},
                  {"max_activation", latest.max_activation},
                  {"contextuality", number_or_null(latest.contextuality)}};
  if (probe && !trajectory.top_contexts.empty()) {
    summary.json["top_context"] = context_text(*probe, trajectory.top_contexts.front().token_index);
  }
  return summary;
}

}  // namespace cw
