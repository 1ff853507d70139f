// What one run may hold in the store, and how many runs there may be
// ([quotas] in the config; 0 = no limit, the default). A refusal is the
// quotaExceeded error, which the publisher does not re-send: the job goes
// on training, its snapshots are dropped and counted as rejected, and
// `last_error` says which quota (docs/SECURITY.md "Quotas and retention").
#ifndef CW_INGEST_RUN_QUOTAS_H_
#define CW_INGEST_RUN_QUOTAS_H_

#include <cstdint>

namespace cw {

struct RunQuotas {
  uint64_t max_runs = 0;          // runs in the store: checked at a new run's Hello
  uint64_t max_taps_per_run = 0;  // checked at each Hello (new runs and added taps)
  uint64_t max_run_bytes = 0;     // stored array bytes of one run: checked at each array's begin
};

}  // namespace cw

#endif  // CW_INGEST_RUN_QUOTAS_H_
