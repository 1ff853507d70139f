// One crosscoder per (run, tap), grown online in turns on the trainer pool's
// threads (analysis/trainer_pool.h): when snapshots arrive it adds them as
// new heads (several at once if they queued up meanwhile), trains a budget
// of steps, writes metrics, feature trajectories and its state to the
// store, and hands the analysis to its TapMonitor. Between turns it holds
// no crosscoder and no activations: each turn reserves its footprint from
// the memory budget (analysis/memory_budget.h), loads the stored state and
// the snapshots' activations from the store — or, when they would not fit
// the cap, streams them (analysis/stored_rows.h: rows read per batch from
// files beside the store) — and drops them at the end
// (the store has every update's state: the next turn, or a restarted
// daemon, resumes exactly from it). What it keeps between turns is the
// monitor's history and its status.
#ifndef CW_ANALYSIS_TAP_WORKER_H_
#define CW_ANALYSIS_TAP_WORKER_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/analysis_config.h"
#include "analysis/crosscoder_summary.h"
#include "analysis/memory_budget.h"
#include "analysis/phase_clock.h"
#include "analysis/stored_rows.h"
#include "analysis/tap_monitor.h"
#include "analysis/task_attribution.h"
#include "analysis/trainer_pool.h"
#include "crosscoder/crosscoder.h"
#include "crosscoder/trainer_ranks.h"
#include "observe/histogram.h"
#include "store/store.h"

namespace cw {

class TapWorker : public TrainerPool::Job {
 public:
  using Emit = std::function<void(const nlohmann::json& event)>;

  // `config` and `memory` are the scheduler's, shared by all workers (one
  // copy of the configuration, not one per tap).
  // With `ranks` (not owned; null: alone) every budget of training steps
  // is spread over the trainer ranks (crosscoder/trainer_ranks.h).
  TapWorker(Store& store, std::string run, std::string tap, const AnalysisConfig& config, MemoryBudget& memory,
            Emit emit, TrainerRanks* ranks = nullptr);

  void queued() override;
  // One update (every snapshot stored and not yet in the crosscoder), or
  // task attribution catching up. When `stop` is set training ends after
  // the current step; an interrupted update is not saved: the stored state
  // stays the last complete one, and the snapshots it lacked are added
  // again after a restart (they are in the store). Errors end up in status.
  void run_turn(const std::atomic<bool>& stop) override;
  nlohmann::json status() const;
  // The few fields `status`'s summary counts, without copying the status.
  TapBrief brief() const;

  // A snapshot of the tap was stored (AnalysisScheduler::on_stored): a
  // refinement under way ends after its current share of training, and the
  // idle time before the next one starts again.
  void arrived();
  // Whether a refinement turn is due: refinement steps are left (granted by
  // every update that took in snapshots: AnalysisConfig::refine_steps) and
  // for refine_after_idle_seconds no snapshot has arrived and no such update
  // has ended (an update longer than that is no idle time: the next
  // snapshot of a stream published one after another is on its way).
  bool refine_due() const;
  // Whether the last turn failed in the trainer ranks (a rank died or did
  // not join) and a second has passed: the update is tried again from the
  // stored state, so that training resumes once the ranks are back.
  bool retry_due() const;
  // Refinement steps this tap still has to train (status "refine_steps_left").
  int64_t refine_steps_left() const;

 private:
  void turn(const std::vector<SnapshotMeta>& stored);
  // The first turn: the monitor's history, and the stored crosscoder with
  // its activations (or none: start afresh, keeping an unloadable state).
  void recover();
  void recover_history();  // throws when the stored crosscoder will not load
  // The stored crosscoder, with its snapshots' activations or without
  // (attribution needs only the weights). None before the first save.
  void load(bool with_activations);
  void restore_activations();
  // Writes the stored crosscoder state to a file beside the store; returns
  // its path ("" when there is none or it could not be written).
  std::string keep_unloadable_state() const;
  bool update(const std::vector<SnapshotMeta>& stored);  // false when there was nothing new
  // An idle tap's turn: trains the crosscoder it holds, without adding a
  // head or recruiting, for at most a few updates' budgets of its
  // refinement steps (ending early when a snapshot arrives), then analyses
  // and saves it as an update does.
  void refine(const std::vector<SnapshotMeta>& stored);
  // Reserves what a turn that trains `heads` heads needs, streamed when
  // holding the rows would exceed the cap (sets stream_).
  std::optional<MemoryBudget::Lease> reserve_training(const std::vector<SnapshotMeta>& stored, std::size_t heads);
  // After training: the analysis (trajectories, events, feature series),
  // attribution, metrics and state saved, the log line. `new_steps` is
  // empty for a refinement.
  void finish_update(const std::vector<uint64_t>& new_steps, const TrainReport& report, PhaseClock& clock,
                     std::chrono::steady_clock::time_point start);
  // Reserves `bytes` (state "waiting for memory" while others hold the
  // budget); nullopt, with the state saying why, if they exceed the cap.
  // status_["memory_bytes"] is what the turn reserves.
  std::optional<MemoryBudget::Lease> reserve(uint64_t bytes, const std::string& breakdown);
  void save(const std::vector<uint64_t>& new_steps, const TrainReport& report);
  // Every task after an update (all), else only tasks whose arrays came late.
  void refresh_attribution(bool all);
  // After an update: adds the feature series to every step that is now
  // population_lag snapshots old, and observes it if they are watched.
  void settle_feature_series(const FeatureAnalysis& analysis, const std::vector<uint64_t>& steps);

  Store& store_;
  const std::string run_, tap_;
  const AnalysisConfig& config_;
  MemoryBudget& memory_;
  Emit emit_;
  TrainerRanks* ranks_;
  std::atomic<int64_t> rank_failed_ns_{0};  // when the ranks last failed a turn; 0: they did not
  const std::atomic<bool>* stop_ = nullptr;  // the running turn's

  // Loaded for a turn only. steps_ and options_ are the stored state's
  // (empty before the first save): they size the next turn's reservation.
  std::unique_ptr<Crosscoder> crosscoder_;
  bool stream_ = false;                 // this turn streams its rows (status_["streamed"])
  std::shared_ptr<StoredRows> rows_;    // what it streams them from
  std::vector<uint64_t> steps_;
  std::optional<CrosscoderOptions> options_;
  bool recovered_ = false;
  // The stored state would not load: train afresh until the next save replaces it.
  bool fresh_start_ = false;
  bool memorising_ = false;  // the newest snapshot's held-out rows read memorised (warned once per episode)
  double load_seconds_ = 0;  // this turn's: state and activations read from the store
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
  // Refinement: steps left since the last update that took in snapshots
  // (none after a restart until a snapshot arrives), when the tap was last
  // busy (its newest snapshot arrived or an update that took snapshots in
  // ended; steady clock), and whether a snapshot arrived since this turn
  // listed the stored snapshots.
  std::atomic<int64_t> refine_steps_left_{0};
  std::atomic<int64_t> last_busy_ns_;
  std::atomic<bool> arrived_{false};

  mutable std::mutex mu_;
  nlohmann::json status_;
  Histogram update_seconds_{update_seconds_bounds()};  // under mu_; status_["update_seconds"]
};

}  // namespace cw

#endif  // CW_ANALYSIS_TAP_WORKER_H_
