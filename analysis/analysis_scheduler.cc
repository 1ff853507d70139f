#include "analysis/analysis_scheduler.h"

#include <spdlog/spdlog.h>

#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

AnalysisScheduler::AnalysisScheduler(Store& store, AnalysisConfig config, TapWorker::Emit emit)
    : store_(store), config_(std::move(config)), emit_(std::move(emit)) {}

AnalysisScheduler::~AnalysisScheduler() {
  std::lock_guard<std::mutex> lock(mu_);
  // Every worker first, so none starts training while another is joined.
  for (auto& [key, worker] : workers_) worker->request_stop();
  workers_.clear();
}

void AnalysisScheduler::start() {
  if (!config_.enabled) return;
  SnapshotTable snapshots(store_);
  // A corrupt record leaves its run (or tap) without a crosscoder, not the
  // daemon stopped: the daemon logs unreadable runs at start-up, `status`
  // shows them.
  std::vector<RunCatalog::Unreadable> unreadable;
  for (const auto& run : RunCatalog(store_).list(&unreadable)) {
    for (const auto& tap : run.description.taps) {
      try {
        if (!snapshots.list(run.description.run, tap.name).empty()) worker(run.description.run, tap.name);
      } catch (const std::runtime_error& e) {
        spdlog::error("crosscoder {}/{}: not started, its snapshots cannot be listed: {}", run.description.run,
                      tap.name, e.what());
      }
    }
  }
}

TapWorker& AnalysisScheduler::worker(const std::string& run, const std::string& tap) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = workers_[{run, tap}];
  if (!slot) slot = std::make_unique<TapWorker>(store_, run, tap, config_, train_mutex_, emit_);
  return *slot;
}

void AnalysisScheduler::on_stored(const SnapshotMeta& meta) {
  // Task gradients too: attribution waits for the task arrays that follow a probe snapshot.
  if (!config_.enabled || meta.key.kind == ArrayKind::kTaskActivations) return;
  worker(meta.key.run, meta.key.tap).notify();
}

void AnalysisScheduler::stop_run(const std::string& run) {
  std::vector<std::unique_ptr<TapWorker>> stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = workers_.lower_bound({run, ""}); it != workers_.end() && it->first.first == run;) {
      stopping.push_back(std::move(it->second));
      it = workers_.erase(it);
    }
  }
  for (auto& worker : stopping) worker->request_stop();
  stopping.clear();  // joins each thread, outside mu_: status() is not held up
}

nlohmann::json AnalysisScheduler::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, worker] : workers_) out.push_back(worker->status());
  return out;
}

}  // namespace cw
