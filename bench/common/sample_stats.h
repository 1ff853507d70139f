// Order statistics of repeated measurements (medians, percentiles).
#ifndef CW_BENCH_COMMON_SAMPLE_STATS_H_
#define CW_BENCH_COMMON_SAMPLE_STATS_H_

#include <vector>

namespace cw::bench {

// Nearest-rank percentile, q in [0, 1]; throws std::invalid_argument if empty.
double percentile(std::vector<double> samples, double q);
inline double median(const std::vector<double>& samples) { return percentile(samples, 0.5); }
double maximum(const std::vector<double>& samples);

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_SAMPLE_STATS_H_
