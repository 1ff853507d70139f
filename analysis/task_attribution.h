// Task attribution as the crosscoder learns: after each update, for every
// task the run registered, attr_i^θ = Σ_task tokens f_i^θ (W_D,i^θ · ∂m/∂x^θ)
// at every snapshot θ the crosscoder holds, stored in the AttributionTable.
// f^θ depends on the task activations at every snapshot (the pre-activation
// is shared), so a task is computed only when the hook sent its activations
// and gradient at every one of the crosscoder's steps; otherwise it is
// skipped and status() says what is missing. Torch-free (the crosscoder's
// public header only).
#ifndef CW_ANALYSIS_TASK_ATTRIBUTION_H_
#define CW_ANALYSIS_TASK_ATTRIBUTION_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crosscoder/crosscoder.h"
#include "schema/records.h"
#include "store/store.h"

namespace cw {

class TaskAttribution {
 public:
  TaskAttribution(Store& store, std::string run, std::string tap);

  // Recomputes every task of the run for the crosscoder as it is now.
  void update(const Crosscoder& crosscoder);
  // Computes the tasks whose stored attribution is not of the crosscoder's
  // current snapshots (their arrays arrived after the update, or the daemon
  // restarted) and that can be computed now. Cheap when there are none.
  void catch_up(const Crosscoder& crosscoder);
  // Whether catch_up() would compute a task for a crosscoder over `steps`
  // (without loading it).
  bool behind(const std::vector<uint64_t>& steps);
  // Per task: {"state": "computed", "snapshots": T} or {"state": "skipped", "reason": "..."}.
  nlohmann::json status() const { return status_; }

 private:
  void compute(const Crosscoder& crosscoder, const TaskSpec& task);
  std::vector<TaskSpec> tasks() const;
  void load_covered(const std::vector<TaskSpec>& specs);

  Store& store_;
  const std::string run_, tap_;
  std::map<std::string, std::vector<uint64_t>> covered_;  // task -> steps of its stored record
  bool loaded_ = false;                                   // covered_ read from the store
  nlohmann::json status_ = nlohmann::json::object();
};

}  // namespace cw

#endif  // CW_ANALYSIS_TASK_ATTRIBUTION_H_
