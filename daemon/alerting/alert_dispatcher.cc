#include "daemon/alerting/alert_dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>

namespace cw {

using SteadyClock = std::chrono::steady_clock;

// Shared by the dispatcher and the worker thread, so that a thread detached
// at shutdown (stuck in deliver()) still owns everything it touches.
struct AlertDispatcher::Worker {
  std::unique_ptr<AlertSink> sink;
  DeliveryPolicy policy;
  std::thread thread;

  std::mutex mutex;
  std::condition_variable wake;      // to the worker: new alert, stop, abandon
  std::condition_variable finished;  // to shutdown(): the thread is about to exit
  std::deque<Alert> queue;
  bool stopping = false;  // drain the queue, then exit
  bool abandon = false;   // past the shutdown deadline: give up at once
  bool done = false;
  SinkStats stats;

  void run() {
    for (;;) {
      Alert alert;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return !queue.empty() || stopping; });
        if (queue.empty() || abandon) break;
        alert = std::move(queue.front());
        queue.pop_front();
        stats.queued = queue.size();
      }
      deliver_with_retries(alert);
    }
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    finished.notify_all();
  }

  void deliver_with_retries(const Alert& alert) {
    auto backoff = policy.initial_backoff;
    for (uint32_t attempt = 1;; ++attempt) {
      std::string error;
      try {
        sink->deliver(alert);
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::unique_lock<std::mutex> lock(mutex);
      if (error.empty()) {
        ++stats.delivered;
        return;
      }
      stats.last_error = error;
      if (attempt >= policy.max_attempts || abandon) {
        ++stats.dropped_failed;
        spdlog::warn("alert sink {}: dropped alert {} after {} attempts: {}", stats.sink,
                     alert.labels.count("alertname") ? alert.labels.at("alertname") : "?", attempt, error);
        return;
      }
      ++stats.retried;
      spdlog::debug("alert sink {}: attempt {} failed ({}), retrying in {} ms", stats.sink, attempt, error,
                    backoff.count());
      if (wake.wait_for(lock, backoff, [this] { return abandon; })) {
        ++stats.dropped_failed;
        return;
      }
      backoff = std::min(backoff * 2, policy.max_backoff);
    }
  }
};

AlertDispatcher::~AlertDispatcher() { shutdown(kDefaultShutdownDeadline); }

void AlertDispatcher::add_sink(std::unique_ptr<AlertSink> sink, const DeliveryPolicy& policy) {
  if (!sink) throw std::invalid_argument("add_sink: no sink");
  if (policy.queue_capacity == 0) throw std::invalid_argument("alert sink " + sink->name() + ": queue capacity must be > 0");
  if (policy.max_attempts == 0) throw std::invalid_argument("alert sink " + sink->name() + ": max attempts must be > 0");
  if (policy.initial_backoff.count() < 0 || policy.max_backoff < policy.initial_backoff)
    throw std::invalid_argument("alert sink " + sink->name() + ": need 0 <= initial back-off <= max back-off");
  auto worker = std::make_shared<Worker>();
  worker->stats.sink = sink->name();
  worker->sink = std::move(sink);
  worker->policy = policy;
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) throw std::logic_error("add_sink after shutdown");
  worker->thread = std::thread([worker] { worker->run(); });
  workers_.push_back(std::move(worker));
}

void AlertDispatcher::emit(const Alert& alert) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& worker : workers_) {
    std::lock_guard<std::mutex> worker_lock(worker->mutex);
    if (worker->stopping || worker->queue.size() >= worker->policy.queue_capacity) {
      ++worker->stats.dropped_full;
      continue;
    }
    worker->queue.push_back(alert);
    worker->stats.queued = worker->queue.size();
    worker->wake.notify_one();
  }
}

std::vector<SinkStats> AlertDispatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SinkStats> all;
  for (const auto& worker : workers_) {
    std::lock_guard<std::mutex> worker_lock(worker->mutex);
    all.push_back(worker->stats);
  }
  return all;
}

bool AlertDispatcher::shutdown(std::chrono::milliseconds deadline) {
  std::vector<std::shared_ptr<Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return false;
    shut_down_ = true;
    workers = workers_;  // stats() keeps working after shutdown
  }
  for (const auto& worker : workers) {
    std::lock_guard<std::mutex> lock(worker->mutex);
    worker->stopping = true;
    worker->wake.notify_all();
  }
  auto until = SteadyClock::now() + deadline;
  bool drained = true;
  for (const auto& worker : workers) {
    std::unique_lock<std::mutex> lock(worker->mutex);
    if (!worker->finished.wait_until(lock, until, [&] { return worker->done; })) {
      drained = false;
      worker->abandon = true;
      worker->stats.dropped_failed += worker->queue.size();
      worker->queue.clear();
      worker->stats.queued = 0;
      worker->wake.notify_all();
      // Interrupted back-off waits end at once; a blocked deliver() does not.
      worker->finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return worker->done; });
    }
    bool done = worker->done;
    lock.unlock();
    if (done) {
      worker->thread.join();
    } else {
      spdlog::warn("alert sink {}: still delivering at shutdown; leaving it behind", worker->stats.sink);
      worker->thread.detach();
    }
  }
  return drained;
}

}  // namespace cw
