#include "analysis/watchable_series.h"

namespace cw {

const std::set<std::string>& feature_series_names() {
  static const std::set<std::string> names = {"features_alive",  "features_alive_share", "features_emerging",
                                              "mean_direction_change", "emergence_share", "fading_share",
                                              "new_mass_share",  "turnover",             "dimensionality_rate",
                                              "log_dimensionality_rate"};
  return names;
}

const std::set<std::string>& watchable_series_names() {
  static const std::set<std::string> names = [] {
    std::set<std::string> all = {"surprise", "surprise_ratio", "surprise_share", "sustained_surprise_share"};
    all.insert(feature_series_names().begin(), feature_series_names().end());
    return all;
  }();
  return names;
}

}  // namespace cw
