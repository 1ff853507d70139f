// The tinygpt pre-training job: builds the dataset and the model, trains
// with Adam, logs per-step metrics as JSON lines, and at every checkpoint of
// the schedule hands the probe batch's residual stream (and task probes) to
// a SnapshotSink. Torch-free header: the CLI and sinks need not include torch.
#ifndef CW_EXAMPLES_TINYGPT_TRAINER_H_
#define CW_EXAMPLES_TINYGPT_TRAINER_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "examples/tinygpt/gpt_config.h"
#include "examples/tinygpt/snapshot_sink.h"

namespace cw {

struct TrainOptions {
  std::string run_name = "tinygpt";
  std::string dataset = "repeat";  // "repeat" or "kjv"
  // The model; vocab_size is taken from the dataset, and for "repeat" the
  // context is 2 × repeat_half_length.
  GPTConfig model;

  int64_t repeat_half_length = 32;  // repeat: n, sequences are 2n long
  int64_t repeat_min_half_length = 0;  // repeat: > 0 varies the copy length per row (see repeat_dataset.h)
  int64_t repeat_vocab = 64;
  int64_t repeat_successors = 0;  // repeat: > 0 draws the first copy from a bigram chain (see repeat_dataset.h)
  std::string text_file;  // kjv: read this file instead of running the bible program
  std::string bible_program = "/usr/bin/bible";
  double probe_fraction = 0.1;  // kjv: the held-out tail of the text

  int64_t batch = 32;
  double lr = 3e-4;  // with batch 32: the repeat transition at ~step 420 (tests/examples/tinygpt_training_test.cc)
  uint64_t steps = 1000;
  uint64_t seed = 0;
  uint64_t probe_seed = 20240917;  // repeat: the held-out probe and task sequences
  int threads = 1;

  int64_t probe_sequences = 16;
  int64_t task_sequences = 8;  // repeat: the induction task probe; 0 disables it
  std::vector<std::string> taps;  // empty: every residual tap of the model
  uint64_t log_spaced_until = 512;
  uint64_t snapshot_every = 500;
  // Sleep this long after each probe snapshot: a job whose checkpoints come
  // further apart in time than tinygpt's flat-out ones (tests that ask
  // whether an alert is raised while the run runs use it on a loaded machine).
  uint64_t pause_after_snapshot_ms = 0;
  // false: no probe pass at checkpoints and nothing to the sink but the probe
  // set (bench/tinygpt's no-hooks baseline).
  bool run_probes = true;
  uint64_t log_every = 50;   // progress lines, and kjv probe-loss evaluations
  std::string metrics_path;  // JSON lines, one per step; empty: none
};

struct TrainSummary {
  uint64_t steps = 0;
  double seconds = 0;
  double final_train_loss = 0;
  // repeat (first step where the training batch shows it):
  std::optional<uint64_t> second_copy_below_2;
  std::optional<uint64_t> second_copy_below_1;
  std::optional<uint64_t> prefix_matching_above_half;  // max head score > 0.5
  double final_second_copy_loss = 0;
  double final_prefix_matching = 0;
  // kjv (probe loss, evaluated every log_every steps):
  double probe_unigram_entropy = 0;
  double probe_bigram_entropy = 0;
  std::optional<uint64_t> probe_below_unigram;
  std::optional<uint64_t> probe_within_bigram;  // first step within 0.1 nats above it
  std::optional<uint64_t> probe_below_bigram;
  double final_probe_loss = 0;
  uint64_t snapshots = 0;
};

// Throws std::invalid_argument for unusable options, std::runtime_error
// when the corpus cannot be loaded or the metrics file written. `progress`
// (may be null) gets a line every log_every steps.
TrainSummary train_tinygpt(const TrainOptions& options, SnapshotSink& sink, std::ostream* progress);

// The summary as lines of text for people.
void print_summary(const TrainOptions& options, const TrainSummary& summary, std::ostream& out);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_TRAINER_H_
