// What a `status` query asks for. By default the answer is a summary whose
// size does not grow with the number of runs and taps (issue 11): counts,
// the trainers, the taps that need attention and the first `limit` runs.
// {"run": R} adds that run's per-tap crosscoder entries (and lists only
// it); {"taps": true} is the full listing of before, every run and every
// tap: what /metrics renders. `conceptwatch status --run R --taps --limit N`.
#ifndef CW_QUERY_STATUS_REQUEST_H_
#define CW_QUERY_STATUS_REQUEST_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace cw {

struct StatusRequest {
  static constexpr std::size_t kDefaultLimit = 20;

  std::string run;  // empty: every run
  bool taps = false;
  std::size_t limit = kDefaultLimit;  // runs, and taps needing attention, listed; 0: all

  // Throws QueryError naming a parameter of the wrong type.
  static StatusRequest from_params(const nlohmann::json& params);
  // Whether the per-tap crosscoder entries are asked for.
  bool per_tap() const { return taps || !run.empty(); }
};

}  // namespace cw

#endif  // CW_QUERY_STATUS_REQUEST_H_
