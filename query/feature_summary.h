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
#include <vector>

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

// The probe tokens of row `row`'s sequence up to it, at most `before` of
// them before it: their ids, their text in the run's vocabulary (Hello's
// vocabulary; "<id>" without one or for an id beyond it) and the whole
// context as one line, the row's own token marked: "the cat «sat»".
//
// Tokens are joined as they are where they are text fragments (a
// tokenizer's " cat", a character-level model's characters); ids without a
// vocabulary, and a vocabulary of placeholder names (a letter prefix and a
// number, like tinygpt's synthetic repeat task's "t0".."t63"), are joined
// with spaces: "t24 t11 «t5»", not "t24t11«t5»". A newline token reads "\n".
struct ProbeContext {
  std::vector<uint32_t> token_ids;
  std::vector<std::string> tokens;
  std::string text;
};
ProbeContext probe_context(const ProbeSet& probe, uint32_t row, int before = 10);
std::string context_text(const ProbeSet& probe, uint32_t row, int before = 10);  // probe_context(...).text

}  // namespace cw

#endif  // CW_QUERY_FEATURE_SUMMARY_H_
