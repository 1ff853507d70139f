// The threads that train every tap's crosscoder: a fixed number ([analysis]
// workers), whatever the number of runs and taps (issue 11: one thread per
// tap made 309 threads for 300 runs). A tap with work is queued once (more
// notices while it waits change nothing); the threads take taps first in,
// first out, one turn each (one update: every snapshot new at that moment),
// and a tap notified during its turn goes to the back of the queue, so a
// tap that keeps receiving snapshots cannot starve the others.
#ifndef CW_ANALYSIS_TRAINER_POOL_H_
#define CW_ANALYSIS_TRAINER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <vector>

#include "analysis/trainer_priority.h"

namespace cw {

class TrainerPool {
 public:
  // One tap's work. The pool never runs two turns of one job at once.
  class Job {
   public:
    virtual ~Job() = default;
    // Put in the queue (for its status); called under the pool's lock.
    virtual void queued() = 0;
    // One turn, on a pool thread. `stop` is set when the daemon stops: end
    // the turn soon (training checks it after every step).
    virtual void run_turn(const std::atomic<bool>& stop) = 0;
  };

  // Starts `threads` threads named cw-crosscoder, each at `priority`
  // (trainer_priority.h); none when the analysis is off.
  TrainerPool(int64_t threads, TrainerPriority priority);
  ~TrainerPool();  // stop()

  // `job` has work: queues it, or marks it to run again after its turn.
  // `job` must outlive the pool's threads (stop()).
  void submit(Job* job);
  // Sets `stop` for the turns running, waits for them, and ends the
  // threads; queued turns are not run. Idempotent.
  void stop();
  // Takes `job` out: unqueued, and if its turn is running, that turn's
  // `stop` is set and this waits for it to end. Afterwards the pool holds no
  // reference to `job` (it may be destroyed) unless it is submitted again.
  // For a run being deleted (AnalysisScheduler::stop_run).
  void withdraw(Job* job);

  // The priority the threads run at: the configured one, or "normal" if
  // the system refused it.
  const char* priority_name() const;
  // {"workers", "busy", "queued", "priority"}.
  nlohmann::json status() const;

 private:
  struct Slot {
    bool queued = false;
    bool running = false;
    bool again = false;              // submitted during its turn
    std::atomic<bool> stop{false};   // the running turn's: the pool's stop, or withdraw()
  };
  void loop();

  const TrainerPriority priority_;
  std::atomic<bool> priority_refused_{false};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable turn_ended_;
  std::deque<Job*> queue_;
  std::unordered_map<Job*, Slot> slots_;
  int64_t busy_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_TRAINER_POOL_H_
