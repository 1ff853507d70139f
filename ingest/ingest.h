// Validates incoming hook messages and writes complete snapshots durably.
// Transport-free: the ingest server feeds it frames from ZeroMQ, and
// `conceptwatch import` (daemon down) feeds it the same frames directly.
#ifndef CW_INGEST_INGEST_H_
#define CW_INGEST_INGEST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/records.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

struct IngestLimits {
  uint64_t max_frame_bytes = 64ull << 20;      // one message, chunk included
  uint64_t max_snapshot_bytes = (4ull << 30) - 1;  // one whole array: one store value, < 2^32 bytes
  uint64_t max_pending_bytes = 8ull << 30;     // all partially received arrays
  uint32_t max_d_model = 1u << 16;
  uint64_t max_probe_tokens = 1ull << 24;
};

struct IngestStats {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t snapshots_stored = 0;
  uint64_t duplicates = 0;
  uint64_t hello_writes = 0;  // Hellos that wrote the store: new runs, added taps/tasks/vocabulary
  uint64_t errors = 0;
  uint64_t pending_snapshots = 0;
  uint64_t pending_bytes = 0;
};

class Ingest {
 public:
  Ingest(Store& store, IngestLimits limits);
  ~Ingest();

  // Handles one frame from `peer`. Returns the reply frames to send back
  // (none for a chunk that was accepted). Never throws for bad input: every
  // problem becomes an Error reply naming it.
  std::vector<Frame> handle(const std::string& peer, const void* data, std::size_t size);

  // Forgets partial arrays of a peer idle longer than `idle_ms`.
  void expire(uint64_t now_ms, uint64_t idle_ms);

  // Called after each snapshot is stored (not for duplicates).
  void on_stored(std::function<void(const SnapshotMeta&)> callback) { on_stored_ = std::move(callback); }

  IngestStats stats() const;

 private:
  struct Assembly;
  class Rejection;
  std::vector<Frame> dispatch(const std::string& peer, const void* data, std::size_t size);
  std::vector<Frame> hello(const RunDescription& run);
  std::vector<Frame> begin(const std::string& peer, const SnapshotBegin& begin);
  std::vector<Frame> chunk(const std::string& peer, const SnapshotChunk& chunk);
  std::vector<Frame> end(const std::string& peer, const SnapshotEnd& end);
  const RunEntry& known_run(const std::string& run);
  void count_pending();

  Store& store_;
  const IngestLimits limits_;
  RunCatalog runs_;
  SnapshotTable snapshots_;
  std::map<std::string, RunEntry> run_cache_;
  std::map<std::string, std::unique_ptr<Assembly>> pending_;  // by peer + snapshot key
  std::function<void(const SnapshotMeta&)> on_stored_;
  std::string spare_data_;  // the last stored array's buffer, reused for the next
  mutable std::mutex stats_mu_;
  IngestStats stats_;
};

}  // namespace cw

#endif  // CW_INGEST_INGEST_H_
