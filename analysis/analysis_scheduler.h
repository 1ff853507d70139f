// Keeps a TapWorker for every (run, tap) that has snapshots — at start-up
// for what is already stored, and as new taps appear — and queues a worker
// on the trainer pool (analysis/trainer_pool.h) when a snapshot of its tap
// is stored, and again when an idle tap's refinement is due. A fixed
// number of threads and a memory budget (analysis/memory_budget.h) serve
// every tap, however many runs there are.
// Ingest never waits for training.
#ifndef CW_ANALYSIS_ANALYSIS_SCHEDULER_H_
#define CW_ANALYSIS_ANALYSIS_SCHEDULER_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "analysis/memory_budget.h"
#include "analysis/tap_worker.h"
#include "analysis/trainer_pool.h"
#include "analysis/trainer_rank_processes.h"
#include "crosscoder/trainer_ranks.h"
#include "schema/records.h"
#include "store/store.h"

namespace cw {

class AnalysisScheduler {
 public:
  AnalysisScheduler(Store& store, AnalysisConfig config, TapWorker::Emit emit);
  ~AnalysisScheduler();  // the pool's turns end (interrupted) before the workers go

  void start();                              // workers for what is stored
  void on_stored(const SnapshotMeta& meta);  // from the ingest thread
  // One entry per worker (TapWorker::status()), of `run` only unless it
  // is empty: megabytes with thousands of taps.
  nlohmann::json status(const std::string& run = "") const;
  // Bounded whatever the number of taps (analysis/crosscoder_summary.h).
  nlohmann::json summary(std::size_t limit) const;
  // Stops the run's workers and waits for them (a worker ends after its
  // current training step, without saving it): before the run is deleted.
  void stop_run(const std::string& run);
  // The pool and the memory budget: {"workers", "busy", "queued",
  // "priority", "memory": MemoryBudget::status()}, and with trainer ranks
  // "ranks": {"world_size", "port", "generation", "processes"}.
  nlohmann::json trainer_status() const;

 private:
  TapWorker& worker(const std::string& run, const std::string& tap);
  // Once a second: queues the workers whose refinement is due
  // (TapWorker::refine_due) or whose update the trainer ranks failed
  // (TapWorker::retry_due), until the scheduler goes.
  void queue_refinements();

  Store& store_;
  AnalysisConfig config_;
  TapWorker::Emit emit_;
  MemoryBudget memory_;
  // [analysis] trainer_ranks > 1: the ranks every update's training steps
  // spread over, and the processes of those this daemon starts itself (the
  // ranks told to stop before the processes are ended).
  std::unique_ptr<TrainerRankProcesses> rank_processes_;
  std::unique_ptr<TrainerRanks> ranks_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<TapWorker>> workers_;
  TrainerPool pool_;  // its threads stop before the workers go
  std::mutex refine_mu_;
  std::condition_variable refine_wake_;
  bool stopping_ = false;  // under refine_mu_
  std::thread refine_timer_;  // last: stops first
};

}  // namespace cw

#endif  // CW_ANALYSIS_ANALYSIS_SCHEDULER_H_
