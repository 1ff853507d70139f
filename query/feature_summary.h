// One feature as the queries describe it: when it emerged and faded (the
// emergence detector run over its stored trajectory), how strong and how
// contextual it is now, and its strongest probe context. Shared by the
// `features`, `feature` and `attribution` queries so that they agree.
#ifndef CW_QUERY_FEATURE_SUMMARY_H_
#define CW_QUERY_FEATURE_SUMMARY_H_

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "detect/emergence.h"
#include "schema/records.h"
#include "store/analysis_tables.h"

namespace cw {

struct FeatureSummary {
  nlohmann::json json;              // feature, live, emerged_step, faded_step, ... (the `features` query's row)
  double emerged_step = INFINITY;   // for sorting: INFINITY when it never emerged
  double strength = 0;              // decoder norm at the latest snapshot
  double contextuality = NAN;
};

// `probe` may be null (no top_context then).
FeatureSummary summarise_feature(const FeatureTrajectory& trajectory, const EmergenceOptions& options,
                                 const ProbeSet* probe);

// The probe tokens around row `row`, the row's own token marked: "the cat «sat»".
std::string context_text(const ProbeSet& probe, uint32_t row, int before = 10);

}  // namespace cw

#endif  // CW_QUERY_FEATURE_SUMMARY_H_
