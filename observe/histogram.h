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

// Upper bounds for a crosscoder update's wall time, in seconds: a test's
// 32-feature update takes ~0.1 s, the default 300 steps at d_model 64 on one
// core several seconds, a large dictionary on a busy node minutes.
const std::vector<double>& update_seconds_bounds();

}  // namespace cw

#endif  // CW_OBSERVE_HISTOGRAM_H_
