// The training-side half of conceptwatch: publish() hands a snapshot to a
// background thread and returns; that thread sends it to conceptwatchd and
// keeps it until the daemon acknowledges that it is durably stored.
//
// Guarantees to the training job:
//  - publish() copies the array once and does no network I/O;
//  - the queue is bounded in bytes; when full, the default policy drops the
//    oldest un-acknowledged snapshot (counted in stats().dropped);
//    WhenFull::kBlock waits up to block_timeout for room, then drops;
//  - a daemon that is down, slow, restarting or answering garbage never
//    makes the job crash or hang; snapshots are re-sent after a restart;
//  - a snapshot the daemon refuses for now (busy; its store cannot be
//    written, e.g. a full disk) stays queued and is re-sent after a wait
//    that doubles from retry_wait up to max_retry_wait while the refusals
//    go on.
#ifndef CW_HOOKS_PUBLISHER_H_
#define CW_HOOKS_PUBLISHER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "auth/client_keys.h"
#include "schema/defaults.h"
#include "schema/records.h"

namespace cw {

enum class WhenFull { kDropOldest, kBlock };

struct PublisherOptions {
  std::string endpoint = kDefaultIngestEndpoint;  // conceptwatchd's ingest socket
  // CURVE key files, for a daemon with [auth] keys (auth/client_keys.h):
  // the daemon's .pub and this job's .secret, whose public key must be in
  // the daemon's ingest_keys. Empty: no CURVE (loopback default). A
  // refused key shows in stats().last_error.
  ClientKeyFiles keys;
  uint64_t max_queue_bytes = 1ull << 30;
  WhenFull when_full = WhenFull::kDropOldest;
  std::chrono::milliseconds block_timeout{2000};   // kBlock only
  uint64_t chunk_bytes = 4ull << 20;
  // Snapshots being sent at once; more overlap network and daemon disk.
  int max_in_flight = 2;
  // A snapshot not acknowledged this long after it was sent is sent again.
  std::chrono::milliseconds ack_timeout{10000};
  // The wait before re-sending a snapshot the daemon refused for now; it
  // doubles at each refusal of that snapshot, up to max_retry_wait (a full
  // disk can last hours: one attempt per snapshot in flight every few
  // seconds, not five a second).
  std::chrono::milliseconds retry_wait{200};
  std::chrono::milliseconds max_retry_wait{5000};
  // ZeroMQ's wait between attempts to reach a daemon that is down doubles
  // from 100 ms up to this.
  std::chrono::milliseconds max_reconnect_wait{2000};
  // How long the destructor waits for outstanding acknowledgements.
  std::chrono::milliseconds close_timeout{5000};
  // A run whose Hello a quota of the daemon refused (quotaExceeded): its
  // snapshots are refused at once, not queued, and the Hello is sent again
  // this long after each refusal; once it is taken (a run was deleted, the
  // quota raised), publishing resumes. One frame a minute costs the daemon
  // nothing.
  std::chrono::milliseconds quota_retry_wait{60000};
};

struct PublisherStats {
  uint64_t published = 0;   // accepted by publish()
  uint64_t acked = 0;       // stored by the daemon (duplicates included)
  uint64_t duplicates = 0;  // acked as already stored (after a re-send)
  uint64_t dropped = 0;     // evicted from a full queue, never stored
  // Refused by the daemon (see last_error), never re-sent; a run over a
  // quota of the daemon (quotaExceeded) counts every snapshot until its
  // Hello is taken (PublisherOptions::quota_retry_wait).
  uint64_t rejected = 0;
  uint64_t resent = 0;      // sent again after a timeout or daemon restart
  uint64_t queued = 0;      // not yet acknowledged
  uint64_t queued_bytes = 0;
  uint64_t max_publish_ns = 0;  // longest time publish() took
  bool hello_acked = false;
  // The daemon's last reply refused a snapshot because it cannot write its
  // store (last_error says why); false again at the next ack.
  bool store_unavailable = false;
  uint64_t retry_wait_ms = 0;  // the wait set at the last refusal for now; 0 after an ack
  std::string last_error;   // the daemon's last error message, if any
};

class Publisher {
 public:
  // Throws std::invalid_argument if the run description is unusable or a
  // key file in options.keys cannot be used.
  Publisher(RunDescription run, PublisherOptions options = {});
  ~Publisher();  // waits up to close_timeout for acks, then stops
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Queues `data` ([meta.n_tokens × meta.d_model] elements of meta.dtype,
  // row-major) for (meta.key). meta.checksum is computed by the sender.
  // Returns false (and counts a drop) only if the snapshot could not be
  // queued. Throws std::invalid_argument for an unknown tap or task, or a
  // shape that does not match the run description.
  bool publish(const SnapshotMeta& meta, const void* data);

  // Waits until every queued snapshot is acknowledged, or the timeout.
  bool flush(std::chrono::milliseconds timeout);
  PublisherStats stats() const;
  const RunDescription& run() const;

 private:
  class Sender;
  std::unique_ptr<Sender> sender_;
};

}  // namespace cw

#endif  // CW_HOOKS_PUBLISHER_H_
