// The yardstick for publish(): one plain memcpy of a snapshot on the calling
// thread, into a buffer that is already mapped (warm), into a freshly
// allocated one (whose pages fault in during the copy, as when the publisher
// has no spare buffer), and into a fresh one backed by transparent huge
// pages (a proposed fix: 2 MiB faults instead of 4 KiB ones). Each call
// times one copy, so they can be interleaved with publish() calls and see
// the same machine load.
#ifndef CW_BENCH_INGEST_COPY_BASELINE_H_
#define CW_BENCH_INGEST_COPY_BASELINE_H_

#include <memory>
#include <string>

namespace cw::bench {

class CopyBaseline {
 public:
  explicit CopyBaseline(const std::string& source);
  ~CopyBaseline();

  double warm_copy_seconds();
  double fresh_copy_seconds();      // allocation + copy; the free is not timed
  double huge_page_copy_seconds();  // the same with madvise(MADV_HUGEPAGE)

 private:
  const std::string& source_;
  std::unique_ptr<char[]> warm_;
};

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_COPY_BASELINE_H_
