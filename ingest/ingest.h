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
#include <optional>
#include <string>
#include <vector>

#include "ingest/ingest_limits.h"
#include "ingest/pending_usage.h"
#include "ingest/refusal_log.h"
#include "ingest/run_quotas.h"
#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/records.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

struct IngestStats {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t snapshots_stored = 0;
  uint64_t duplicates = 0;
  uint64_t hello_writes = 0;  // Hellos that wrote the store: new runs, added taps/tasks/vocabulary
  uint64_t errors = 0;
  uint64_t pending_snapshots = 0;
  uint64_t pending_bytes = 0;  // declared by the pending arrays' begins
  uint64_t refusals_not_logged = 0;  // refusal warnings the rate limit held back (RefusalLog)
};

class Ingest {
 public:
  Ingest(Store& store, IngestLimits limits, RunQuotas quotas = {});
  ~Ingest();

  // Handles one frame from `peer`. Returns the reply frames to send back
  // (none for a chunk that was accepted). Never throws for bad input: every
  // problem becomes an Error reply naming it.
  std::vector<Frame> handle(const std::string& peer, const void* data, std::size_t size);

  // The reply to a message the transport found not to be one frame (the
  // daemon's envelope check): counted and logged like any refusal.
  Frame refuse_envelope(const std::string& peer, const std::string& problem);

  // Forgets partial arrays of a peer idle longer than `idle_ms`.
  void expire(uint64_t now_ms, uint64_t idle_ms);

  // Query messages on this socket are write commands (`delete_run`): the
  // ingest role may change the store, the query role only reads it
  // (docs/SECURITY.md). Answered by `command`, on the calling thread;
  // without one they are refused.
  using Command = std::function<QueryReply(const QueryRequest& request)>;
  void on_command(Command command) { command_ = std::move(command); }

  // After `run` was deleted from the store: drops its partial arrays and
  // what is cached about it, so that its name starts afresh.
  void forget_run(const std::string& run);

  // The runs that received nothing (no array, no Hello) for `idle_ms`, by
  // the newest of: creation, the last stored array, a Hello to this daemon.
  std::vector<std::string> runs_idle_for(uint64_t now_ms, uint64_t idle_ms);

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
  // A run's stored bytes and last activity, read from the store once, and
  // the bytes of its arrays in flight (begun, not yet stored or dropped):
  // max_run_bytes counts both, so one burst cannot pass it.
  struct RunUsage {
    uint64_t bytes = 0;
    uint64_t pending_bytes = 0;
    uint64_t last_active_ms = 0;
  };
  RunUsage& usage_of(const std::string& run);
  uint64_t run_count();
  void check_taps_quota(const RunDescription& run);
  // The only ways into and out of pending_: they keep usage_ and the stats.
  void add_pending(const std::string& pkey, std::unique_ptr<Assembly> assembly);
  std::unique_ptr<Assembly> remove_pending(std::map<std::string, std::unique_ptr<Assembly>>::iterator it);
  void publish_pending_stats();
  void log_refusal(const std::string& reason, const std::string& message, bool is_error = false);

  Store& store_;
  const IngestLimits limits_;
  const RunQuotas quotas_;
  Command command_;
  RunCatalog runs_;
  SnapshotTable snapshots_;
  std::map<std::string, RunEntry> run_cache_;
  std::map<std::string, std::unique_ptr<Assembly>> pending_;  // by peer + snapshot key
  PendingUsage usage_;  // of pending_
  std::map<std::string, RunUsage> run_usage_;  // runs read so far
  std::optional<uint64_t> run_count_;  // once counted: runs in the store
  RefusalLog refusal_log_;
  std::function<void(const SnapshotMeta&)> on_stored_;
  std::string spare_data_;  // the last stored array's buffer, reused for the next
  mutable std::mutex stats_mu_;
  IngestStats stats_;
};

}  // namespace cw

#endif  // CW_INGEST_INGEST_H_
