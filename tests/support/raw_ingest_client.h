// A bare ZeroMQ DEALER on the daemon's ingest socket: sends whatever bytes a
// test makes up and reads the daemon's replies, with none of the
// publisher's retries in between.
#ifndef CW_TESTS_SUPPORT_RAW_INGEST_CLIENT_H_
#define CW_TESTS_SUPPORT_RAW_INGEST_CLIENT_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "schema/conceptwatch.capnp.h"
#include "schema/records.h"
#include "schema/snapshot_frames.h"

namespace cw::testing {

// One reply from the ingest socket, decoded.
struct IngestReply {
  bool is_ack = false;
  bool ack_is_hello = false;
  bool duplicate = false;             // ack only
  std::string hello_run;              // hello ack only
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;  // error only
  std::string message;                // error only
  bool has_snapshot = false;
  SnapshotKey snapshot;               // snapshot ack, or error about a snapshot

  std::string describe() const;       // for assertion messages
};

class RawIngestClient {
 public:
  explicit RawIngestClient(const std::string& endpoint);
  ~RawIngestClient();
  RawIngestClient(const RawIngestClient&) = delete;
  RawIngestClient& operator=(const RawIngestClient&) = delete;

  void send(const std::string& bytes);
  // The next reply, or nullopt if none arrives within `timeout`.
  std::optional<IngestReply> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // send() then receive(); throws std::runtime_error if no reply comes.
  IngestReply exchange(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends every frame of one snapshot, as a publisher does (the daemon
  // answers only the last), and returns the reply to the last.
  IngestReply exchange_snapshot(const SnapshotFrames& frames,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_RAW_INGEST_CLIENT_H_
