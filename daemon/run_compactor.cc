#include "daemon/run_compactor.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "store/run_deletion.h"

namespace cw {

RunCompactor::RunCompactor(Store* store) : store_(store), thread_([this] { loop(); }) {}

RunCompactor::~RunCompactor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cancel_ = true;
  wake_.notify_all();
  thread_.join();
}

void RunCompactor::schedule(const std::string& run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(run);
  }
  wake_.notify_all();
}

std::size_t RunCompactor::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + running_;
}

void RunCompactor::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    const std::string run = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    try {
      compact_run(*store_, run, &cancel_);
      if (cancel_) {
        spdlog::info("stopped compacting a deleted run's key ranges (shutting down); RocksDB will in time");
      } else {
        spdlog::info("compacted deleted run's key ranges ({:.2f} s); the store takes {} bytes now",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                     store_->disk_bytes());
      }
    } catch (const std::exception& e) {
      // Not lost: RocksDB compacts the deleted ranges on its own later.
      spdlog::warn("could not compact a deleted run's key ranges now ({}); RocksDB will in time", e.what());
    }
    lock.lock();
    --running_;
  }
}

}  // namespace cw
