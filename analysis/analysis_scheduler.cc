#include "analysis/analysis_scheduler.h"

#include <spdlog/spdlog.h>

#include "observe/host_port.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

AnalysisScheduler::AnalysisScheduler(Store& store, AnalysisConfig config, TapWorker::Emit emit)
    : store_(store),
      config_(std::move(config)),
      emit_(std::move(emit)),
      memory_(config_.memory_cap_bytes),
      pool_(config_.enabled ? config_.workers : 0, config_.priority) {
  if (!config_.enabled || config_.trainer_ranks < 1) return;
  HeadGroupAddress address;
  const HostPort listen = split_host_port(config_.trainer_listen, "[analysis] trainer_listen", true);
  address.host = listen.host;
  address.port = listen.port;
  address.world_size = int(config_.trainer_ranks);
  address.timeout = std::chrono::milliseconds(int64_t(config_.trainer_rank_timeout_seconds * 1000));
  ranks_ = std::make_unique<TrainerRanks>(address);
  if (address.world_size > 1)
    spdlog::info("trainer ranks: {} (this daemon is rank 0), meeting at {}:{}", address.world_size, address.host,
                 ranks_->port());
  if (config_.spawn_trainer_ranks && address.world_size > 1) {
    const std::string program =
        config_.trainer_program.empty() ? TrainerRankProcesses::default_program() : config_.trainer_program;
    rank_processes_ = std::make_unique<TrainerRankProcesses>(program, address.host, ranks_->port(),
                                                             address.world_size, config_.trainer_rank_timeout_seconds);
  }
}

AnalysisScheduler::~AnalysisScheduler() {
  {
    std::lock_guard<std::mutex> lock(refine_mu_);
    stopping_ = true;
  }
  refine_wake_.notify_all();
  if (refine_timer_.joinable()) refine_timer_.join();
  // Every turn first (they use the workers), then the workers.
  pool_.stop();
}

void AnalysisScheduler::start() {
  if (!config_.enabled) return;
  if (config_.refine_steps > 0 || ranks_) refine_timer_ = std::thread([this] { queue_refinements(); });
  SnapshotTable snapshots(store_);
  // A corrupt record leaves its run (or tap) without a crosscoder, not the
  // daemon stopped: the daemon logs unreadable runs at start-up, `status`
  // shows them.
  std::vector<RunCatalog::Unreadable> unreadable;
  for (const auto& run : RunCatalog(store_).list(&unreadable)) {
    for (const auto& tap : run.description.taps) {
      try {
        if (!snapshots.list(run.description.run, tap.name).empty()) pool_.submit(&worker(run.description.run, tap.name));
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
  if (!slot) slot = std::make_unique<TapWorker>(store_, run, tap, config_, memory_, emit_, ranks_.get());
  return *slot;
}

void AnalysisScheduler::on_stored(const SnapshotMeta& meta) {
  // Task gradients too: attribution waits for the task arrays that follow a probe snapshot.
  if (!config_.enabled || meta.key.kind == ArrayKind::kTaskActivations) return;
  TapWorker& tap = worker(meta.key.run, meta.key.tap);
  tap.arrived();
  pool_.submit(&tap);
}

void AnalysisScheduler::queue_refinements() {
  std::unique_lock<std::mutex> wait_lock(refine_mu_);
  while (!refine_wake_.wait_for(wait_lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    // Under mu_: stop_run takes a worker out of workers_ before it withdraws
    // it from the pool, so one submitted here is withdrawn too.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, worker] : workers_)
      if (worker->refine_due() || worker->retry_due()) pool_.submit(worker.get());
  }
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
  // Outside mu_, so that status() is not held up while a turn ends (after
  // its current training step, unsaved).
  for (auto& worker : stopping) pool_.withdraw(worker.get());
}

nlohmann::json AnalysisScheduler::status(const std::string& run) const {
  const char* priority = pool_.priority_name();
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (auto it = workers_.lower_bound({run, ""}); it != workers_.end(); ++it) {
    if (!run.empty() && it->first.first != run) break;
    out.push_back(it->second->status());
    out.back()["priority"] = priority;
  }
  return out;
}

nlohmann::json AnalysisScheduler::summary(std::size_t limit) const {
  CrosscoderSummary summary(limit);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, worker] : workers_) summary.add(worker->brief());
  return summary.to_json();
}

nlohmann::json AnalysisScheduler::trainer_status() const {
  nlohmann::json out = pool_.status();
  out["memory"] = memory_.status();
  if (ranks_) {
    out["ranks"] = {{"world_size", ranks_->world_size()},
                    {"port", ranks_->port()},
                    {"generation", ranks_->generation()},
                    {"row_bytes_sent", ranks_->row_bytes_sent()},
                    {"row_file_bytes_sent", ranks_->row_file_bytes_sent()},
                    {"ranks_reading_row_files", ranks_->ranks_reading_row_files()},
                    {"processes", rank_processes_ ? rank_processes_->status() : nlohmann::json::array()}};
  }
  return out;
}

}  // namespace cw
