// The names of the crosscoder series a tap's monitor computes
// (analysis/tap_monitor.h: arrival_values' and feature_values'), apart from
// the monitor itself so that the daemon's configuration checks
// [transitions] series against them without linking the analysis.
#ifndef CW_ANALYSIS_WATCHABLE_SERIES_H_
#define CW_ANALYSIS_WATCHABLE_SERIES_H_

#include <set>
#include <string>

namespace cw {

// Names of the series TapMonitor::feature_values gives.
const std::set<std::string>& feature_series_names();
// Every crosscoder series [transitions] series may name: arrival_values'
// and feature_values'.
const std::set<std::string>& watchable_series_names();

}  // namespace cw

#endif  // CW_ANALYSIS_WATCHABLE_SERIES_H_
