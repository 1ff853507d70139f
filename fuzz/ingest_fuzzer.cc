// Ingest::handle (ingest/ingest.h) over a real RocksDB store: an input is a
// sequence of frames from two peers (frame_sequence.h), handed one by one
// to a fresh Ingest, as the daemon's ingest socket hands them over. The
// seeds are whole sessions of real frames, so mutations start from a stored
// snapshot and reach every refusal. Contract: handle() never throws, and
// every reply is a frame the hook can read, an Ack or an Error.
//
// Bounded: the limits below keep one input's memory small, each input gets
// its own Ingest (no partial arrays carried over), and the store is wiped
// every 2,000 inputs (fuzz/scratch_store.h).
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz/frame_sequence.h"
#include "fuzz/scratch_store.h"
#include "ingest/ingest.h"

namespace {

cw::IngestLimits small_limits() {
  cw::IngestLimits limits;
  // The seed arrays are under 100 bytes; a claimed array is zeroed when its
  // begin arrives, so larger limits only cost executions per second.
  limits.max_frame_bytes = 1 << 20;
  limits.max_snapshot_bytes = 64 << 10;
  limits.max_pending_bytes = 256 << 10;
  limits.max_d_model = 1 << 12;
  limits.max_probe_tokens = 1 << 16;
  return limits;
}

void check_reply(const cw::Frame& reply) {
  cw::IncomingMessage message(reply.data(), reply.size(), reply.size());
  auto body = message.get().getBody();
  if (!body.isAck() && !body.isError()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // a warning per refused frame is the daemon's log, not ours
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static cw::fuzz::ScratchStore scratch(2000);
  cw::Ingest ingest(scratch.next(), small_limits());
  for (const auto& frame : cw::fuzz::split_frames(data, size)) {
    for (const cw::Frame& reply : ingest.handle(frame.peer, frame.data, frame.size)) check_reply(reply);
  }
  ingest.expire(~uint64_t(0), 0);
  return 0;
}
