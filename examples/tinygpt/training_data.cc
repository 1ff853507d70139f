#include "examples/tinygpt/training_data.h"

#include <algorithm>
#include <memory>

#include "examples/tinygpt/char_entropy.h"
#include "examples/tinygpt/kjv_corpus.h"
#include "examples/tinygpt/repeat_dataset.h"

namespace cw {

namespace {
constexpr int64_t kKjvEvalSequences = 64;
}

TrainingData make_repeat_data(const TrainOptions& options) {
  RepeatSpec spec{options.repeat_vocab, options.repeat_half_length, options.repeat_min_half_length};
  spec.successors = options.repeat_successors;
  spec.validate();
  TrainingData data;
  data.vocab_size = spec.vocab_size;
  data.sequence_length = spec.sequence_length();
  for (int64_t i = 0; i < spec.vocab_size; ++i) data.vocabulary.push_back("t" + std::to_string(i));
  auto as_token_batch = [](RepeatBatch b) { return TokenBatch{std::move(b.tokens), std::move(b.copy_lengths)}; };
  data.train_batch = [spec, as_token_batch](int64_t batch, std::mt19937_64& rng) {
    return as_token_batch(make_repeat_batch(spec, batch, rng));
  };
  std::mt19937_64 held_out(options.probe_seed);
  data.probe = as_token_batch(make_repeat_batch(spec, options.probe_sequences, held_out));
  data.task = as_token_batch(make_repeat_batch(spec, options.task_sequences, held_out));
  data.eval = data.probe;
  return data;
}

TrainingData make_kjv_data(const TrainOptions& options) {
  const std::string text = options.text_file.empty() ? load_kjv_text(options.bible_program)
                                                     : read_text_file(options.text_file);
  const CharVocabulary vocabulary(text);
  const TextSplit split = split_for_probe(vocabulary.encode(text), options.probe_fraction);
  TrainingData data;
  data.vocab_size = vocabulary.size();
  data.sequence_length = options.model.context;
  data.vocabulary = vocabulary.token_strings();
  auto train = std::make_shared<const std::vector<int64_t>>(split.train);
  const int64_t length = data.sequence_length;
  data.train_batch = [train, length](int64_t batch, std::mt19937_64& rng) {
    return TokenBatch{sample_windows(*train, batch, length, rng), {}};
  };
  // Up to 64 held-out windows for the loss (fewer if the text is short);
  // the probe batch is their first probe_sequences.
  const int64_t available = int64_t(split.probe.size()) / length;
  data.eval.tokens =
      leading_windows(split.probe, std::max(options.probe_sequences, std::min(kKjvEvalSequences, available)), length);
  data.probe.tokens.assign(data.eval.tokens.begin(), data.eval.tokens.begin() + options.probe_sequences * length);
  data.unigram_entropy = unigram_entropy(split.probe, data.vocab_size);
  data.bigram_entropy = bigram_entropy(split.probe, data.vocab_size);
  return data;
}

}  // namespace cw
