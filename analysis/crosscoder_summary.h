// What `status` says of every tap's crosscoder by default, in a size that
// does not grow with the number of taps (issue 11: with 4,000 trained taps
// the per-tap listing was 2.7 MB and took 176 ms): how many taps are in
// each state, the taps that need attention (an error, over the memory cap,
// a stored state that would not resume) up to a limit with a count of the
// rest, and per-run counts for the busiest runs up to the limit. The
// per-tap entries are for `status` with {"run"} or {"taps": true}.
#ifndef CW_ANALYSIS_CROSSCODER_SUMMARY_H_
#define CW_ANALYSIS_CROSSCODER_SUMMARY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cw {

// One tap's worker as the summary needs it (TapWorker::brief()): no copy
// of its metrics, histogram or attribution.
struct TapBrief {
  std::string run, tap, state;
  std::string error;  // why it needs attention; empty when it does not
  uint64_t snapshots = 0, backlog = 0, memory_bytes = 0;
  uint64_t refine_steps_left = 0;  // refinement an idle tap still has to do (AnalysisConfig::refine_steps)
};

class CrosscoderSummary {
 public:
  // At most `limit` taps needing attention and `limit` runs; 0: all.
  explicit CrosscoderSummary(std::size_t limit) : limit_(limit) {}

  void add(const TapBrief& tap);
  // {"taps", "by_state": {state: count}, "snapshots", "backlog", "refine_steps_left",
  //  "attention": [{"run", "tap", "state", "error", "memory_bytes"}],
  //  "attention_left_out", "runs": [{"run", "taps", "by_state", "backlog"}],
  //  "runs_left_out"}. Runs with the most taps not idle (then the largest
  // backlog) come first, then by name.
  nlohmann::json to_json() const;

 private:
  struct RunCounts {
    uint64_t taps = 0, busy = 0, backlog = 0;
    std::map<std::string, uint64_t> by_state;
  };

  std::size_t limit_;
  uint64_t taps_ = 0, snapshots_ = 0, backlog_ = 0, refine_steps_left_ = 0, attention_total_ = 0;
  std::map<std::string, uint64_t> by_state_;
  std::vector<TapBrief> attention_;  // the first limit_
  std::map<std::string, RunCounts> runs_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_CROSSCODER_SUMMARY_H_
