#include "analysis/analysis_scheduler.h"

#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

AnalysisScheduler::AnalysisScheduler(Store& store, AnalysisConfig config, TapWorker::Emit emit)
    : store_(store),
      config_(std::move(config)),
      emit_(std::move(emit)),
      memory_(config_.memory_cap_bytes),
      pool_(config_.enabled ? config_.workers : 0, config_.priority) {}

AnalysisScheduler::~AnalysisScheduler() {
  // Every turn first (they use the workers), then the workers.
  pool_.stop();
}

void AnalysisScheduler::start() {
  if (!config_.enabled) return;
  SnapshotTable snapshots(store_);
  for (const auto& run : RunCatalog(store_).list()) {
    for (const auto& tap : run.description.taps) {
      if (!snapshots.list(run.description.run, tap.name).empty()) pool_.submit(&worker(run.description.run, tap.name));
    }
  }
}

TapWorker& AnalysisScheduler::worker(const std::string& run, const std::string& tap) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = workers_[{run, tap}];
  if (!slot) slot = std::make_unique<TapWorker>(store_, run, tap, config_, memory_, emit_);
  return *slot;
}

void AnalysisScheduler::on_stored(const SnapshotMeta& meta) {
  // Task gradients too: attribution waits for the task arrays that follow a probe snapshot.
  if (!config_.enabled || meta.key.kind == ArrayKind::kTaskActivations) return;
  pool_.submit(&worker(meta.key.run, meta.key.tap));
}

nlohmann::json AnalysisScheduler::status() const {
  const char* priority = pool_.priority_name();
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, worker] : workers_) {
    out.push_back(worker->status());
    out.back()["priority"] = priority;
  }
  return out;
}

nlohmann::json AnalysisScheduler::trainer_status() const {
  nlohmann::json out = pool_.status();
  out["memory"] = memory_.status();
  return out;
}

}  // namespace cw
