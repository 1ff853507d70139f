// Queries over what the analysis stored: crosscoder metrics, features and
// their trajectories, events and phases. Store-only, so the CLI answers them
// from a read-only store too.
#ifndef CW_QUERY_ANALYSIS_QUERIES_H_
#define CW_QUERY_ANALYSIS_QUERIES_H_

#include "detect/emergence.h"
#include "query/query_handler.h"

namespace cw {

// The tap a query is about: params["tap"] if given (and the run has it),
// else the run's only tap. Throws QueryError naming what is wrong.
std::string resolve_tap(Store& store, const std::string& run, const nlohmann::json& params);

void add_analysis_queries(QueryHandler& handler, Store& store, const EmergenceOptions& emergence = {});

}  // namespace cw

#endif  // CW_QUERY_ANALYSIS_QUERIES_H_
