#include "bench/common/load_average.h"

#include <fstream>

namespace cw::bench {

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return in ? one + " (1 min), " + five + " (5 min)" : "unknown";
}

}  // namespace cw::bench
