// Task attribution per (run, tap, task): attr_i^θ = Σ_task tokens f_i^θ ·
// (W_D,i^θ · ∂m/∂x^θ) for every feature i at every snapshot θ the crosscoder
// held when it was computed. One record per task: f^θ depends on the task
// activations at every snapshot (shared pre-activation), so every update of
// the crosscoder changes all of it, and it is written whole.
#ifndef CW_STORE_ATTRIBUTION_TABLE_H_
#define CW_STORE_ATTRIBUTION_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace cw {

struct AttributionRecord {
  std::vector<uint64_t> steps;  // T snapshot steps, ascending
  std::vector<double> metric;   // T: the metric the hook sent with the task arrays (NaN: none)
  // T: Σ_task tokens x^θ · ∂m/∂x^θ, the metric as a linear read of the tap
  // sees it (for a metric linear in x it is the metric less its constant
  // part). Σ_i attr_i^θ over it is the share the features account for; the
  // rest is the crosscoder's reconstruction error and b_D. NaN: a record
  // written before this field existed.
  std::vector<double> linear_total;
  uint32_t n_features = 0;      // F
  std::vector<float> values;    // [T × F], row-major by snapshot
  uint64_t computed_unix_ms = 0;
};

class AttributionTable {
 public:
  explicit AttributionTable(Store& store) : store_(store) {}
  // Replaces the task's record. Throws std::invalid_argument on inconsistent sizes.
  void put(const std::string& run, const std::string& tap, const std::string& task, const AttributionRecord& record);
  std::optional<AttributionRecord> get(const std::string& run, const std::string& tap, const std::string& task) const;
  // Tasks of (run, tap) that have a record.
  std::vector<std::string> tasks(const std::string& run, const std::string& tap) const;

 private:
  Store& store_;
};

}  // namespace cw

#endif  // CW_STORE_ATTRIBUTION_TABLE_H_
