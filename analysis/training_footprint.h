// How much memory one crosscoder update holds at its peak, from its shape
// alone (before anything is loaded): the budget a tap's turn reserves
// (analysis/memory_budget.h). An upper estimate from what the update
// allocates (crosscoder/crosscoder_impl.h); docs/ARCHITECTURE.md "Trainer
// pool and memory cap" compares it with the RSS measured.
#ifndef CW_ANALYSIS_TRAINING_FOOTPRINT_H_
#define CW_ANALYSIS_TRAINING_FOOTPRINT_H_

#include <cstdint>
#include <string>

#include "crosscoder/crosscoder_options.h"

namespace cw {

struct TrainingFootprint {
  bool streamed = false;
  // In memory: every snapshot's probe activations, f32, plus one being
  // read. Streamed: one snapshot being written to its row file
  // (store/row_files.h) and a batch's rows of every snapshot before they
  // are stacked.
  uint64_t activations = 0;
  uint64_t state = 0;        // weights and Adam moments, with the copies a save or a load makes
  uint64_t working = 0;      // a training batch and the analysis' chunks of rows
  uint64_t total() const { return activations + state + working; }
  // "[streamed] activations A + state S + working W bytes", for a refusal's reason.
  std::string describe() const;
};

// A crosscoder of `options` (d_model, n_features set) over `snapshots`
// snapshots of `n_tokens` probe tokens, holding the activations in memory
// or streaming them (Crosscoder::stream_from: rows read on demand,
// analysis chunks bounded in d_model too).
TrainingFootprint training_footprint(const CrosscoderOptions& options, int64_t snapshots, int64_t n_tokens,
                                     bool streamed = false);

// Only the weights and Adam moments, loaded (task attribution between updates).
uint64_t state_footprint(const CrosscoderOptions& options, int64_t snapshots);

}  // namespace cw

#endif  // CW_ANALYSIS_TRAINING_FOOTPRINT_H_
