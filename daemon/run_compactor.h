// Gives back the disk space of deleted runs on a thread of its own.
// conceptwatchd deletes a run on its ingest thread in one batch (the run is
// gone at once: store/run_deletion.h), and compacting the run's key ranges
// — which is what frees the space, and most of a deletion's time (a 704 MiB
// run: 2.5 s) — would hold every hook's acks for as long; here it runs
// beside ingest instead (RocksDB compacts beside reads and writes).
#ifndef CW_DAEMON_RUN_COMPACTOR_H_
#define CW_DAEMON_RUN_COMPACTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace cw {

class RunCompactor {
 public:
  explicit RunCompactor(Store* store);
  // Stops the compaction in progress (a shutdown does not wait for it: a
  // 704 MiB run took 8.6 s beside ingest); it and the runs still queued are
  // left to RocksDB's own compactions (nothing is lost: their records are
  // deleted).
  ~RunCompactor();
  RunCompactor(const RunCompactor&) = delete;
  RunCompactor& operator=(const RunCompactor&) = delete;

  // Queues the compaction of a run that delete_run(…, Compaction::kByCaller) deleted.
  void schedule(const std::string& run);
  // Runs queued or being compacted (status: daemon.store.compactions_pending).
  std::size_t pending() const;

 private:
  void loop();

  Store* store_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t running_ = 0;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};  // set with stop_: ends a compaction under way
  std::thread thread_;
};

}  // namespace cw

#endif  // CW_DAEMON_RUN_COMPACTOR_H_
