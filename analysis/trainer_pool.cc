#include "analysis/trainer_pool.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace cw {

TrainerPool::TrainerPool(int64_t threads, TrainerPriority priority) : priority_(priority) {
  for (int64_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

TrainerPool::~TrainerPool() { stop(); }

void TrainerPool::submit(Job* job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  Slot& slot = slots_[job];
  if (slot.running) {
    slot.again = true;
  } else if (!slot.queued) {
    slot.queued = true;
    queue_.push_back(job);
    job->queued();
    work_.notify_one();
  }
}

void TrainerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (auto& [job, slot] : slots_) slot.stop = true;
    work_.notify_all();
  }
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

void TrainerPool::withdraw(Job* job) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = slots_.find(job);
  if (it == slots_.end()) return;
  for (auto q = queue_.begin(); q != queue_.end();) q = *q == job ? queue_.erase(q) : q + 1;
  Slot& slot = it->second;
  slot.queued = slot.again = false;
  slot.stop = true;
  turn_ended_.wait(lock, [&slot] { return !slot.running; });
  slots_.erase(job);  // `it` may not survive the wait: slots_ can rehash meanwhile
}

const char* TrainerPool::priority_name() const {
  return priority_refused_ ? "normal" : trainer_priority_name(priority_);
}

nlohmann::json TrainerPool::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {{"workers", threads_.size()}, {"busy", busy_}, {"queued", queue_.size()}, {"priority", priority_name()}};
}

void TrainerPool::loop() {
  // Named so that `top -H` and /proc/PID/task/*/comm show which threads
  // are the trainers (15 characters at most).
  pthread_setname_np(pthread_self(), "cw-crosscoder");
  const std::string refused = apply_trainer_priority_to_this_thread(priority_);
  if (!refused.empty()) {
    priority_refused_ = true;
    spdlog::warn("crosscoder trainer: could not lower its priority to {} ({}); it runs at normal priority",
                 trainer_priority_name(priority_), refused);
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Job* job = queue_.front();
    queue_.pop_front();
    Slot& slot = slots_[job];
    slot.queued = false;
    slot.running = true;
    slot.stop = stop_.load();
    ++busy_;
    lock.unlock();
    job->run_turn(slot.stop);  // catches its own errors (TapWorker::run_turn)
    lock.lock();
    --busy_;
    slot.running = false;
    turn_ended_.notify_all();
    if (slot.again && !stop_) {
      slot.again = false;
      slot.queued = true;
      queue_.push_back(job);  // behind every tap that waited meanwhile
      job->queued();
    }
  }
}

}  // namespace cw
