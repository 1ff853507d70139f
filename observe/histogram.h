// A Prometheus-style histogram of durations: fixed upper bounds, cumulative
// counts, a sum. A value type with no lock: its owner guards it (TapWorker
// keeps one per crosscoder under its status mutex) and hands out copies as
// JSON, which `status` shows and /metrics renders (observe/daemon_metrics.h).
#ifndef CW_OBSERVE_HISTOGRAM_H_
#define CW_OBSERVE_HISTOGRAM_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace cw {

class Histogram {
 public:
  // `upper_bounds` strictly increasing and finite; +Inf is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  // {"le": [bounds..., "+Inf"], "cumulative": [counts...], "sum": s, "count": n}:
  // cumulative[i] is the number of values <= le[i], the last equals count.
  nlohmann::json to_json() const;

 private:
  std::vector<double> upper_bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more than the bounds
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Upper bounds for a crosscoder update's wall time, in seconds, 50 ms to
// 10 min: measured, a 32-feature, 20-step update at d_model 16 took
// 0.14-0.25 s (3 updates on the 2-core machine); docs/CROSSCODER.md has
// 0.11-0.38 s for 256 features and 150 steps at d 32. Updates of a large
// dictionary on a busy training node, at idle priority, run to minutes.
const std::vector<double>& update_seconds_bounds();

}  // namespace cw

#endif  // CW_OBSERVE_HISTOGRAM_H_
