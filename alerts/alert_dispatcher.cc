#include "alerts/alert_dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>

namespace cw {

// One sink's queue and thread. Shared between the dispatcher and the thread
// so a thread let go at the shutdown deadline can still finish safely.
struct AlertDispatcher::Worker {
  std::unique_ptr<AlertSink> sink;
  SinkOptions options;
  std::thread thread;

  std::mutex mu;
  std::condition_variable changed;  // queue, flags or busy changed
  std::deque<Alert> queue;
  SinkStats stats;
  bool stopping = false;  // take no more alerts; exit once the queue is empty
  bool abandon = false;   // the deadline passed: exit as soon as possible
  bool finished = false;

  void run();
  void deliver_with_retries(const Alert& alert, std::unique_lock<std::mutex>& lock);
};

void AlertDispatcher::Worker::run() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    changed.wait(lock, [this] { return !queue.empty() || stopping || abandon; });
    if (abandon || queue.empty()) break;
    Alert alert = std::move(queue.front());
    queue.pop_front();
    stats.queued = queue.size();
    stats.delivering = true;
    deliver_with_retries(alert, lock);
    stats.delivering = false;
    changed.notify_all();
  }
  stats.dropped_at_shutdown += queue.size();
  queue.clear();
  stats.queued = 0;
  finished = true;
  changed.notify_all();
}

void AlertDispatcher::Worker::deliver_with_retries(const Alert& alert, std::unique_lock<std::mutex>& lock) {
  auto delay = options.retry.initial_delay;
  for (int attempt = 1;; ++attempt) {
    lock.unlock();
    std::string error;
    try {
      sink->deliver(alert);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
    lock.lock();
    if (error.empty()) {
      ++stats.delivered;
      return;
    }
    stats.last_error = error;
    if (abandon) {
      ++stats.dropped_at_shutdown;
      return;
    }
    if (attempt >= options.retry.max_attempts) {
      ++stats.dropped_gave_up;
      spdlog::warn("alert sink {}: dropped alert {} {} after {} attempts: {}", stats.name, alert.name(),
                   alert.fingerprint(), attempt, error);
      return;
    }
    ++stats.retried;
    if (changed.wait_for(lock, delay, [this] { return abandon; })) {
      ++stats.dropped_at_shutdown;
      return;
    }
    delay = std::min(delay * 2, options.retry.max_delay);
  }
}

AlertDispatcher::~AlertDispatcher() { shutdown(kDefaultShutdownDeadline); }

void AlertDispatcher::add_sink(std::unique_ptr<AlertSink> sink, SinkOptions options) {
  if (!sink) throw std::invalid_argument("alert dispatcher: null sink");
  if (options.queue_capacity == 0) throw std::invalid_argument("alert sink queue_capacity must be at least 1");
  if (options.retry.max_attempts < 1) throw std::invalid_argument("alert sink max_attempts must be at least 1");
  if (options.retry.initial_delay.count() < 0 || options.retry.max_delay < options.retry.initial_delay)
    throw std::invalid_argument("alert sink retry delays must satisfy 0 <= initial_delay <= max_delay");
  auto worker = std::make_shared<Worker>();
  worker->stats.name = options.name.empty() ? sink->describe() : options.name;
  worker->sink = std::move(sink);
  worker->options = std::move(options);
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) throw std::logic_error("alert dispatcher: add_sink after shutdown");
  worker->thread = std::thread([worker] { worker->run(); });
  workers_.push_back(std::move(worker));
}

void AlertDispatcher::emit(const Alert& alert) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& worker : workers_) {
    std::lock_guard<std::mutex> worker_lock(worker->mu);
    if (worker->stopping) {
      ++worker->stats.dropped_at_shutdown;
    } else if (worker->queue.size() >= worker->options.queue_capacity) {
      // Drop the newest rather than evict queued ones: every dropped alert
      // is counted either way, and eviction would reorder firing/resolved.
      if (worker->stats.dropped_queue_full++ == 0)
        spdlog::warn("alert sink {}: queue full ({} alerts), dropping new alerts", worker->stats.name,
                     worker->options.queue_capacity);
    } else {
      worker->queue.push_back(alert);
      worker->stats.queued = worker->queue.size();
      worker->changed.notify_all();
    }
  }
}

std::vector<SinkStats> AlertDispatcher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SinkStats> out;
  for (const auto& worker : workers_) {
    std::lock_guard<std::mutex> worker_lock(worker->mu);
    out.push_back(worker->stats);
  }
  return out;
}

bool AlertDispatcher::flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers = workers_;
  }
  bool idle = true;
  for (auto& worker : workers) {
    std::unique_lock<std::mutex> lock(worker->mu);
    idle = worker->changed.wait_until(lock, deadline, [&] {
             return worker->finished || (worker->queue.empty() && !worker->stats.delivering);
           }) && idle;
  }
  return idle;
}

bool AlertDispatcher::shutdown(std::chrono::milliseconds deadline) {
  std::vector<std::shared_ptr<Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return true;
    shut_down_ = true;
    workers = workers_;
  }
  for (auto& worker : workers) {
    std::lock_guard<std::mutex> lock(worker->mu);
    worker->stopping = true;
    worker->changed.notify_all();
  }
  auto until = std::chrono::steady_clock::now() + deadline;
  bool complete = true;
  for (auto& worker : workers) {
    std::unique_lock<std::mutex> lock(worker->mu);
    uint64_t dropped_before = worker->stats.dropped_at_shutdown;
    if (!worker->changed.wait_until(lock, until, [&] { return worker->finished; })) {
      worker->abandon = true;
      worker->changed.notify_all();
      lock.unlock();
      worker->sink->interrupt();
      lock.lock();
      // Give an interrupted deliver() a moment to return before letting go.
      worker->changed.wait_for(lock, std::chrono::milliseconds(100), [&] { return worker->finished; });
    }
    bool finished = worker->finished;
    if (worker->stats.dropped_at_shutdown != dropped_before || !finished) complete = false;
    lock.unlock();
    if (finished) {
      worker->thread.join();
    } else {
      spdlog::warn("alert sink {}: still delivering at the shutdown deadline, letting it go", worker->stats.name);
      worker->thread.detach();
    }
  }
  return complete;
}

}  // namespace cw
