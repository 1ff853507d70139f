#include "analysis/crosscoder_summary.h"

#include <algorithm>

namespace cw {

void CrosscoderSummary::add(const TapBrief& tap) {
  ++taps_;
  snapshots_ += tap.snapshots;
  backlog_ += tap.backlog;
  refine_steps_left_ += tap.refine_steps_left;
  ++by_state_[tap.state];
  if (!tap.error.empty()) {
    ++attention_total_;
    if (limit_ == 0 || attention_.size() < limit_) attention_.push_back(tap);
  }
  RunCounts& run = runs_[tap.run];
  ++run.taps;
  run.busy += tap.state != "idle";
  run.backlog += tap.backlog;
  ++run.by_state[tap.state];
}

nlohmann::json CrosscoderSummary::to_json() const {
  nlohmann::json attention = nlohmann::json::array();
  for (const TapBrief& tap : attention_) {
    attention.push_back({{"run", tap.run}, {"tap", tap.tap}, {"state", tap.state}, {"error", tap.error}});
    if (tap.state == "over memory cap") attention.back()["memory_bytes"] = tap.memory_bytes;
  }
  // The busiest runs first: those are what an operator looks for; a
  // thousand idle runs say no more than their count.
  std::vector<const std::pair<const std::string, RunCounts>*> order;
  order.reserve(runs_.size());
  for (const auto& entry : runs_) order.push_back(&entry);
  const std::size_t shown = limit_ == 0 ? order.size() : std::min(limit_, order.size());
  std::partial_sort(order.begin(), order.begin() + shown, order.end(), [](const auto* a, const auto* b) {
    if (a->second.busy != b->second.busy) return a->second.busy > b->second.busy;
    if (a->second.backlog != b->second.backlog) return a->second.backlog > b->second.backlog;
    return a->first < b->first;
  });
  nlohmann::json runs = nlohmann::json::array();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& [name, counts] = *order[i];
    runs.push_back({{"run", name}, {"taps", counts.taps}, {"by_state", counts.by_state}, {"backlog", counts.backlog}});
  }
  return {{"taps", taps_},
          {"by_state", by_state_},
          {"snapshots", snapshots_},
          {"backlog", backlog_},
          {"refine_steps_left", refine_steps_left_},
          {"attention", attention},
          {"attention_left_out", attention_total_ - attention_.size()},
          {"runs", runs},
          {"runs_left_out", order.size() - shown}};
}

}  // namespace cw
