// One crosscoder per (run, tap), grown online by its own thread: when
// snapshots arrive it adds them as new heads (several at once if they queued
// up during training), trains a budget of steps, writes metrics, feature
// trajectories and its state to the store, and hands the analysis to its
// TapMonitor. After a daemon restart it resumes from the stored state.
#ifndef CW_ANALYSIS_TAP_WORKER_H_
#define CW_ANALYSIS_TAP_WORKER_H_

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "analysis/analysis_config.h"
#include "analysis/tap_monitor.h"
#include "analysis/task_attribution.h"
#include "crosscoder/crosscoder.h"
#include "observe/histogram.h"
#include "store/store.h"

namespace cw {

class TapWorker {
 public:
  using Emit = std::function<void(const nlohmann::json& event)>;

  // `train_mutex` is shared by all workers: on a small machine one trainer at
  // a time is faster than two competing for the cores.
  TapWorker(Store& store, std::string run, std::string tap, const AnalysisConfig& config, std::mutex& train_mutex,
            Emit emit);
  ~TapWorker();  // request_stop(), then waits for the thread

  void notify();  // a snapshot of this tap was stored
  // Ends training after the current step. An interrupted update is not
  // saved: the stored state stays the last complete one, and the snapshots
  // it lacked are added again after a restart (they are in the store).
  void request_stop();
  nlohmann::json status() const;

 private:
  void loop();
  void recover();
  // Writes the stored crosscoder state to a file beside the store; returns
  // its path ("" when there is none or it could not be written).
  std::string keep_unloadable_state() const;
  bool update();  // false when there was nothing new
  void save(const std::vector<uint64_t>& new_steps, const TrainReport& report);
  // Every task after an update (all), else only tasks whose arrays came late.
  void refresh_attribution(bool all);
  // After an update: adds the feature series to every step that is now
  // population_lag snapshots old, and observes it if they are watched.
  void settle_feature_series(const FeatureAnalysis& analysis, const std::vector<uint64_t>& steps);

  Store& store_;
  const std::string run_, tap_;
  AnalysisConfig config_;
  std::mutex& train_mutex_;
  Emit emit_;

  std::unique_ptr<Crosscoder> crosscoder_;
  std::unique_ptr<TapMonitor> monitor_;
  TaskAttribution attribution_{store_, run_, tap_};
  std::vector<uint32_t> probe_tokens_;
  std::map<uint64_t, nlohmann::json> series_;  // per step: series values when the step arrived
  // Steps whose feature series are not settled yet (the update covering the
  // step population_lag snapshots later is not done), oldest first.
  std::vector<uint64_t> unsettled_;
  // The error on the newest snapshot after the last update: the reference
  // of the next snapshot's surprise (NaN before the first update).
  double newest_mse_ = NAN;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = true;  // look for work at start
  std::atomic<bool> stop_{false};
  nlohmann::json status_;
  Histogram update_seconds_{update_seconds_bounds()};  // under mu_; status_["update_seconds"]
  std::thread thread_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_TAP_WORKER_H_
