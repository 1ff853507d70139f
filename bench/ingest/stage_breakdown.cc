#include "bench/ingest/stage_breakdown.h"

#include <chrono>
#include <functional>
#include <stdexcept>
#include <zmq.hpp>

#include "bench/common/sample_stats.h"
#include "bench/common/temp_dir.h"
#include "ingest/ingest.h"
#include "schema/checksum.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/snapshot_table.h"
#include "store/store.h"

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void keep(const void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

std::vector<Frame> encode_all(const SnapshotFrames& frames) {
  std::vector<Frame> out;
  for (uint32_t i = 0; i < frames.frame_count(); ++i) out.push_back(frames.frame(i));
  return out;
}

void expect_no_reply(const std::vector<Frame>& replies, const char* what) {
  if (!replies.empty()) throw std::runtime_error(std::string("stage breakdown: ingest answered ") + what);
}

}  // namespace

std::vector<StageTime> measure_stages(const BenchData& data, uint64_t chunk_bytes, int repeats,
                                      const std::string& work_dir) {
  const uint64_t probe_hash = data.run.probe.hash();
  const char* array = data.array.data();
  const uint64_t bytes = data.bytes();
  const uint64_t elements = bytes / sizeof(float);
  SnapshotMeta meta = data.meta(1);
  meta.checksum = checksum64(array, bytes);

  TempDir dir(work_dir, "cw-bench-stages");
  auto store = Store::open(dir.path() + "/data");
  Ingest ingest(*store, IngestLimits{});
  const std::string peer = "bench";
  const Frame hello = encode_hello_frame(data.run);
  if (ingest.handle(peer, hello.data(), hello.size()).empty()) throw std::runtime_error("stage breakdown: no Hello ack");

  // The same put without the fsync separates copying from waiting for disk.
  StoreOptions unsynced_options;
  unsynced_options.sync_writes = false;
  auto unsynced_store = Store::open(dir.path() + "/unsynced", unsynced_options);
  SnapshotTable unsynced(*unsynced_store);

  std::vector<double> checksum, encode, zmq_copy, scan, hash, chunks, end, unsynced_put;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    keep(reinterpret_cast<const void*>(checksum64(array, bytes)));
    checksum.push_back(seconds_since(start));

    meta.key.step = 1000 + r;  // a new snapshot each time, so `end` writes it
    const SnapshotFrames snapshot(meta, array, probe_hash, chunk_bytes);
    start = Clock::now();
    const std::vector<Frame> frames = encode_all(snapshot);
    encode.push_back(seconds_since(start));

    start = Clock::now();
    for (const Frame& frame : frames) {
      zmq::message_t message(frame.data(), frame.size());
      keep(message.data());
    }
    zmq_copy.push_back(seconds_since(start));

    start = Clock::now();
    keep(reinterpret_cast<const void*>(first_non_finite(DType::kF32, array, elements)));
    scan.push_back(seconds_since(start));

    start = Clock::now();
    Checksum64 streaming;
    streaming.update(array, bytes);
    keep(reinterpret_cast<const void*>(streaming.digest()));
    hash.push_back(seconds_since(start));

    start = Clock::now();
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
      expect_no_reply(ingest.handle(peer, frames[i].data(), frames[i].size()), "a chunk");
    }
    chunks.push_back(seconds_since(start));

    start = Clock::now();
    const auto replies = ingest.handle(peer, frames.back().data(), frames.back().size());
    end.push_back(seconds_since(start));
    if (ingest.stats().snapshots_stored != uint64_t(r) + 1) {
      throw std::runtime_error("stage breakdown: the end frame did not store the snapshot");
    }

    start = Clock::now();
    unsynced.put(meta, data.array);
    unsynced_put.push_back(seconds_since(start));
  }
  return {{"hooks", "XXH3 checksum of the array (sender thread)", median(checksum)},
          {"hooks", "encode begin/chunk/end frames (Cap'n Proto)", median(encode)},
          {"hooks", "copy frames into zmq::message_t (try_send)", median(zmq_copy)},
          {"daemon", "Ingest::handle begin + chunks", median(chunks)},
          {"daemon", "  of which: non-finite scan", median(scan)},
          {"daemon", "  of which: XXH3 streaming hash", median(hash)},
          {"daemon", "Ingest::handle end (SnapshotTable::put, synced)", median(end)},
          {"daemon", "  the same put with sync off (no fsync)", median(unsynced_put)}};
}

}  // namespace cw::bench
