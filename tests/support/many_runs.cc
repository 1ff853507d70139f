#include "tests/support/many_runs.h"

#include <algorithm>
#include <stdexcept>

#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw::testing {

void publish_many_runs(const std::string& ingest_endpoint, int runs, const std::vector<std::string>& taps,
                       const std::function<void(int)>& after_batch) {
  RawIngestClient peer(ingest_endpoint);
  std::vector<float> values;
  int acked = 0, sent = 0;
  for (int first = 0; first < runs; first += 100) {
    const int end = std::min(runs, first + 100);
    for (int r = first; r < end; ++r) {
      const RunDescription run = make_run("run" + std::to_string(r), taps, 8, 16, 16);
      peer.send(encode_hello_frame(run));
      ++sent;
      for (const auto& tap : taps) {
        values = random_activations(array_seed(tap, r), 16 * 8);
        const SnapshotFrames frames(probe_meta(run, tap, 1, values), values.data(), run.probe.hash(), 1 << 20);
        for (uint32_t i = 0; i < frames.frame_count(); ++i) peer.send(frames.frame(i));
        ++sent;
      }
    }
    for (; acked < sent; ++acked) {
      const auto reply = peer.receive(std::chrono::seconds(30));
      if (!reply || !reply->is_ack)
        throw std::runtime_error("publish_many_runs: " + (reply ? reply->describe() : std::string("no reply in 30 s")));
    }
    if (after_batch) after_batch(end);
  }
}

}  // namespace cw::testing
