// The yardstick for publish(): one plain memcpy of a snapshot, into a buffer
// that is already mapped (warm) and into a freshly allocated one (whose
// pages fault in during the copy, as when the publisher has no spare buffer),
// and into a fresh one backed by transparent huge pages (a proposed fix:
// 2 MiB faults instead of 4 KiB ones).
#ifndef CW_BENCH_INGEST_COPY_BASELINE_H_
#define CW_BENCH_INGEST_COPY_BASELINE_H_

#include <string>
#include <vector>

namespace cw::bench {

struct CopyTimes {
  std::vector<double> warm_seconds;
  std::vector<double> fresh_seconds;       // allocation + copy + nothing else
  std::vector<double> huge_page_seconds;   // the same with madvise(MADV_HUGEPAGE)
};

CopyTimes time_copies(const std::string& source, int repeats);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_COPY_BASELINE_H_
