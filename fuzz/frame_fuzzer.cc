// Wire frame decoding (schema/): any bytes as one ZeroMQ frame, read as a
// Message and through the decoder of whatever body it claims, as the daemon,
// the publisher and the CLI read frames. Contract: IncomingMessage throws
// WireError, a field read throws kj::Exception, nothing else goes wrong; and
// a decoded Hello or snapshot Begin written back and read again is the same
// frame (the publisher and `conceptwatch import` re-send what they read).
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "schema/messages.h"
#include "schema/record_codec.h"
#include "schema/run_checks.h"

namespace {

constexpr std::size_t kMaxFrameBytes = 64ull << 20;  // ingest.h's default max_frame_bytes

// encode(decode(frame)) is a fixed point of decode-then-encode.
template <typename Read, typename Encode>
void check_round_trip(const cw::Frame& once, Read read, Encode encode) {
  cw::IncomingMessage again(once.data(), once.size(), kMaxFrameBytes);
  if (encode(read(again.get().getBody())) != once) std::abort();
}

void decode(const uint8_t* data, std::size_t size) {
  cw::IncomingMessage in(data, size, kMaxFrameBytes);
  auto body = in.get().getBody();
  switch (body.which()) {
    case cw::wire::Message::Body::HELLO: {
      const cw::RunDescription run = cw::read_hello(body.getHello());
      (void)cw::check_run(run);
      auto read = [](auto b) { return cw::read_hello(b.getHello()); };
      check_round_trip(cw::encode_hello_frame(run), read, cw::encode_hello_frame);
      break;
    }
    case cw::wire::Message::Body::SNAPSHOT_BEGIN: {
      cw::SnapshotBegin begin;
      try {
        begin = cw::read_snapshot_begin(body.getSnapshotBegin());
      } catch (const cw::UnknownDType&) {
        return;
      }
      (void)begin.meta.bytes();
      auto read = [](auto b) { return cw::read_snapshot_begin(b.getSnapshotBegin()); };
      check_round_trip(cw::encode_snapshot_begin_frame(begin), read, cw::encode_snapshot_begin_frame);
      break;
    }
    case cw::wire::Message::Body::SNAPSHOT_CHUNK: {
      const cw::SnapshotChunk chunk = cw::read_snapshot_chunk(body.getSnapshotChunk());
      if (chunk.size && !chunk.data) std::abort();
      break;
    }
    case cw::wire::Message::Body::SNAPSHOT_END:
      (void)cw::read_snapshot_end(body.getSnapshotEnd()).key.describe();
      break;
    case cw::wire::Message::Body::ACK:
      (void)cw::read_ack(body.getAck());
      break;
    case cw::wire::Message::Body::ERROR:
      (void)cw::read_error(body.getError());
      break;
    case cw::wire::Message::Body::QUERY:
      (void)cw::read_query(body.getQuery());
      break;
    case cw::wire::Message::Body::REPLY:
      (void)cw::read_reply(body.getReply());
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    decode(data, size);
  } catch (const cw::WireError&) {
  } catch (const kj::Exception&) {
  }
  return 0;
}
