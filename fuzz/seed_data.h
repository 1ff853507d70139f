// What a real training job sends and what the daemon then holds, small:
// two runs (f32 with a vocabulary and a task; bf16 with two taps), each
// snapshot cut into begin, chunks and end by schema/snapshot_frames.h with
// the checksum the publisher computes (hooks/publisher.cc). These frames
// seed the fuzzers' corpora (make_seeds.cc), and the query fuzzer's store
// holds them, ingested through Ingest, with analysis records beside them.
#ifndef CW_FUZZ_SEED_DATA_H_
#define CW_FUZZ_SEED_DATA_H_

#include <vector>

#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/records.h"
#include "store/store.h"

namespace cw::fuzz {

std::vector<RunDescription> seed_runs();

// Hello, then every snapshot of the run (probe activations at two steps per
// tap; for a task, its activations and gradient), frame by frame.
std::vector<Frame> seed_session(const RunDescription& run);

// The seed runs stored as the daemon stores them, plus the records the
// crosscoder workers write (metrics, trajectories, events, transitions,
// attribution), so that every query has something to read.
void fill_seed_store(Store& store);

// One request per query command, about the seed runs.
std::vector<QueryRequest> seed_queries();

}  // namespace cw::fuzz

#endif  // CW_FUZZ_SEED_DATA_H_
