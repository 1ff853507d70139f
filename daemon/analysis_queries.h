// Queries over what the analysis stored: crosscoder metrics, features and
// their trajectories, events and phases. Store-only, so the CLI answers them
// from a read-only store too.
#ifndef CW_DAEMON_ANALYSIS_QUERIES_H_
#define CW_DAEMON_ANALYSIS_QUERIES_H_

#include "daemon/query_handler.h"
#include "detect/emergence.h"

namespace cw {

void add_analysis_queries(QueryHandler& handler, Store& store, const EmergenceOptions& emergence = {});

}  // namespace cw

#endif  // CW_DAEMON_ANALYSIS_QUERIES_H_
