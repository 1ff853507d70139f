// The `attribution` query: which features carry a task at each snapshot.
// Params: run, tap (optional when the run has one), task, top (default 10),
// step (optional: that snapshot only). Answers from the AttributionTable
// the crosscoder workers fill (analysis/task_attribution.h); store-only, so
// the CLI answers it from a read-only store too.
#ifndef CW_QUERY_ATTRIBUTION_QUERY_H_
#define CW_QUERY_ATTRIBUTION_QUERY_H_

#include "detect/emergence.h"
#include "query/query_handler.h"

namespace cw {

void add_attribution_query(QueryHandler& handler, Store& store, const EmergenceOptions& emergence);

}  // namespace cw

#endif  // CW_QUERY_ATTRIBUTION_QUERY_H_
