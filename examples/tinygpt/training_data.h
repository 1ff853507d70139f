// The two datasets behind one torch-free face: where training batches come
// from, the fixed probe (and task) sequences, and facts about the probe text.
#ifndef CW_EXAMPLES_TINYGPT_TRAINING_DATA_H_
#define CW_EXAMPLES_TINYGPT_TRAINING_DATA_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "examples/tinygpt/snapshot_sink.h"
#include "examples/tinygpt/trainer.h"

namespace cw {

// Rows of tokens; for "repeat" also each row's copy length m.
struct TokenBatch {
  std::vector<int64_t> tokens;        // rows × sequence_length
  std::vector<int64_t> copy_lengths;  // repeat only: one per row
};

struct TrainingData {
  int64_t vocab_size = 0;
  int64_t sequence_length = 0;
  std::vector<std::string> vocabulary;
  // `batch` rows of fresh training tokens.
  std::function<TokenBatch(int64_t batch, std::mt19937_64& rng)> train_batch;
  TokenBatch probe;  // probe_sequences rows, held out
  TokenBatch eval;   // kjv: more held-out windows for the loss, starting with the probe's
  TokenBatch task;   // repeat: task_sequences rows, held out
  double unigram_entropy = 0, bigram_entropy = 0;  // kjv: of the held-out text
};

// "repeat": fresh random sequences every batch; probe and task sequences
// come from their own generator seeded with options.probe_seed.
TrainingData make_repeat_data(const TrainOptions& options);

// "kjv": the KJV (or options.text_file) at character level; the last
// probe_fraction of the text is held out for probe, evaluation and entropies.
TrainingData make_kjv_data(const TrainOptions& options);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_TRAINING_DATA_H_
