#include "bench/tinygpt/timed_sink.h"

#include <time.h>

#include <chrono>
#include <utility>

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

template <typename Call>
double seconds_in(Call&& call) {
  const auto start = Clock::now();
  call();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double process_cpu_seconds_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

TimedSink::TimedSink(SnapshotSink& inner, std::function<void()> after_probe_set)
    : inner_(inner), after_probe_set_(std::move(after_probe_set)) {}

void TimedSink::on_probe_set(const ProbeDescription& probe) {
  inner_.on_probe_set(probe);
  if (after_probe_set_) after_probe_set_();
  training_thread_ = current_thread_id();
  threads_at_start_ = thread_cpu_seconds();
  cpu_at_start_ = process_cpu_seconds_now();
}

void TimedSink::on_snapshot(const Snapshot& snapshot) {
  seconds_by_step_[snapshot.step] += seconds_in([&] { inner_.on_snapshot(snapshot); });
}

void TimedSink::on_task_probe(const TaskProbeResult& result) {
  seconds_by_step_[result.step] += seconds_in([&] { inner_.on_task_probe(result); });
}

void TimedSink::on_finish() {
  cpu_at_finish_ = process_cpu_seconds_now();
  threads_at_finish_ = thread_cpu_seconds();
  inner_.on_finish();
}

std::vector<double> TimedSink::checkpoint_seconds() const {
  std::vector<double> seconds;
  for (const auto& [step, s] : seconds_by_step_) seconds.push_back(s);
  return seconds;
}

}  // namespace cw::bench
