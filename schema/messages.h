// Every wire Message as a plain value, with its encoder and its decoder in
// one place: the publisher, `conceptwatch import`, the daemon and the CLI
// build and read frames only through these. A decoder takes the body member
// the caller dispatched on (IncomingMessage::get().getBody()).
#ifndef CW_SCHEMA_MESSAGES_H_
#define CW_SCHEMA_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "schema/conceptwatch.capnp.h"
#include "schema/message_io.h"
#include "schema/records.h"

namespace cw {

// Hello: the run description (record_codec.h reads it: read_hello).
Frame encode_hello_frame(const RunDescription& run);

// The first frame of a snapshot: its metadata (checksum unset: it is in the
// end frame) and how it will arrive.
struct SnapshotBegin {
  SnapshotMeta meta;
  uint64_t total_bytes = 0;   // must equal meta.bytes()
  uint32_t chunk_count = 0;
  uint64_t probe_hash = 0;    // must equal the run's
};
Frame encode_snapshot_begin_frame(const SnapshotBegin& begin);
// A SnapshotBegin whose dtype this peer does not know.
class UnknownDType : public WireError {
 public:
  UnknownDType(const SnapshotKey& key, uint16_t dtype);
  SnapshotKey key;
};
// Throws UnknownDType.
SnapshotBegin read_snapshot_begin(wire::SnapshotBegin::Reader in);

// One chunk: `data` points into the frame (or into the sender's array), so
// it is valid only as long as that is.
struct SnapshotChunk {
  SnapshotKey key;
  uint32_t index = 0;
  uint64_t offset = 0;
  const void* data = nullptr;
  std::size_t size = 0;
};
Frame encode_snapshot_chunk_frame(const SnapshotChunk& chunk);
SnapshotChunk read_snapshot_chunk(wire::SnapshotChunk::Reader in);

struct SnapshotEnd {
  SnapshotKey key;
  uint64_t checksum = 0;  // checksum64 of the whole array
};
Frame encode_snapshot_end_frame(const SnapshotEnd& end);
SnapshotEnd read_snapshot_end(wire::SnapshotEnd::Reader in);

// The daemon's acknowledgements: of a Hello (with the largest frame it
// takes) and of a durably stored snapshot.
struct HelloAck {
  std::string run;
  uint64_t max_frame_bytes = 0;
};
struct SnapshotAck {
  SnapshotKey key;
  bool duplicate = false;  // it was stored already; stored once
};
Frame encode_hello_ack_frame(const HelloAck& ack);
Frame encode_snapshot_ack_frame(const SnapshotAck& ack);
std::variant<HelloAck, SnapshotAck> read_ack(wire::Ack::Reader in);

struct ErrorReply {
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;
  std::string message;
  std::optional<SnapshotKey> snapshot;  // set when the error concerns one snapshot
  bool store_unavailable = false;       // with kBusy: the daemon cannot write its store
};
Frame encode_error_frame(const ErrorReply& error);
ErrorReply read_error(wire::Error::Reader in);

// CLI queries: parameters and answers are JSON text.
struct QueryRequest {
  std::string command;
  std::string params;  // a JSON object, or empty for none
};
struct QueryReply {
  bool ok = false;
  std::string json;   // when ok
  std::string error;  // when not
};
Frame encode_query_frame(const QueryRequest& query);
QueryRequest read_query(wire::Query::Reader in);
Frame encode_reply_frame(const QueryReply& reply);
QueryReply read_reply(wire::Reply::Reader in);

}  // namespace cw

#endif  // CW_SCHEMA_MESSAGES_H_
