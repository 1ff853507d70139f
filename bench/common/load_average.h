// The machine's load average, printed next to a benchmark's numbers: on a
// shared machine the other load explains much of the spread.
#ifndef CW_BENCH_COMMON_LOAD_AVERAGE_H_
#define CW_BENCH_COMMON_LOAD_AVERAGE_H_

#include <string>

namespace cw::bench {

// "0.52 (1 min), 0.71 (5 min)", or "unknown" without /proc/loadavg.
std::string load_average();

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_LOAD_AVERAGE_H_
