// tinygpt: a small GPT pre-training job (induction on repeated random
// tokens, or character-level KJV) that snapshots its residual stream on a
// fixed probe batch at log-spaced checkpoints.
#include <CLI/CLI.hpp>

#include <chrono>
#include <exception>
#include <sstream>
#include <iostream>

#include "examples/tinygpt/conceptwatch_sink.h"
#include "crosscoder/tensor_heap.h"
#include "examples/tinygpt/logging_sink.h"
#include "examples/tinygpt/trainer.h"

int main(int argc, char** argv) {
  cw::keep_freed_tensor_memory();  // 2.2x faster training steps on CPU (crosscoder/tensor_heap.h)
  cw::TrainOptions o;
  bool no_layer_norm = false, quiet_sink = false;
  std::string positions = cw::to_string(o.model.positions);
  CLI::App app{"tinygpt: train a small GPT and snapshot its residual stream at checkpoints"};
  app.add_option("--dataset", o.dataset, "repeat (random tokens repeated twice) or kjv (char-level Bible)")
      ->check(CLI::IsMember({"repeat", "kjv"}))
      ->capture_default_str();
  app.add_option("--run", o.run_name, "run name handed to the sink")->capture_default_str();
  app.add_option("--layers", o.model.n_layers, "transformer blocks")->capture_default_str();
  app.add_option("--d-model", o.model.d_model, "residual stream width")->capture_default_str();
  app.add_option("--heads", o.model.n_heads, "attention heads per block")->capture_default_str();
  app.add_flag("--mlp,!--no-mlp", o.model.mlp, "add an MLP to every block (default: attention-only)");
  app.add_flag("--no-layer-norm", no_layer_norm, "no LayerNorms anywhere");
  app.add_option("--positions", positions,
                 "rotary (queries and keys rotated by position, as in Pythia) or learned (an embedding per "
                 "position added to the residual stream, as in GPT-2)")
      ->check(CLI::IsMember({"rotary", "learned"}))
      ->capture_default_str();
  app.add_option("--init-std", o.model.init_std, "std of the normal weight init")->capture_default_str();
  app.add_option("--context", o.model.context, "kjv: characters per sequence")->capture_default_str();
  app.add_option("--repeat-n", o.repeat_half_length, "repeat: random tokens per copy (sequences are 2n)")
      ->capture_default_str();
  app.add_option("--repeat-min-n", o.repeat_min_half_length,
                 "repeat: draw each row's copy length from [this, n] and pad the front with random tokens, "
                 "so the copy offset varies and a positional head cannot solve it (0: fixed n)")
      ->capture_default_str();
  app.add_option("--repeat-vocab", o.repeat_vocab, "repeat: vocabulary size")->capture_default_str();
  app.add_option("--repeat-successors", o.repeat_successors,
                 "repeat: draw the tokens before the repeat from a fixed bigram chain in which each token has this "
                 "many equally likely successors, so there are bigram statistics to learn before induction (0: "
                 "uniformly random tokens)")
      ->capture_default_str();
  app.add_option("--text", o.text_file, "kjv: train on this text file instead of the bible-kjv package");
  app.add_option("--bible", o.bible_program, "kjv: the bible-kjv program")->capture_default_str();
  app.add_option("--probe-fraction", o.probe_fraction, "kjv: held-out tail of the text")->capture_default_str();
  app.add_option("--batch", o.batch, "sequences per step")->capture_default_str();
  app.add_option("--lr", o.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--steps", o.steps, "optimizer steps")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the init and the training batches")->capture_default_str();
  app.add_option("--probe-seed", o.probe_seed, "repeat: seed of the held-out probe and task sequences")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "torch intra-op threads")->capture_default_str();
  app.add_option("--probe-sequences", o.probe_sequences, "probe batch size (sequences)")->capture_default_str();
  app.add_option("--task-sequences", o.task_sequences, "repeat: induction task-probe sequences (0: none)")
      ->capture_default_str();
  app.add_option("--tap", o.taps, "residual taps to snapshot (default: all), e.g. blocks.1.resid_post");
  app.add_option("--log-spaced-until", o.log_spaced_until, "snapshot at 0,1,2,4,... up to this step")
      ->capture_default_str();
  app.add_option("--snapshot-every", o.snapshot_every, "then snapshot every N steps")->capture_default_str();
  app.add_option("--pause-after-snapshot-ms", o.pause_after_snapshot_ms,
                 "sleep this long after each probe snapshot (checkpoints further apart in time)")
      ->capture_default_str();
  app.add_option("--log-every", o.log_every, "progress line (and kjv held-out loss) every N steps")
      ->capture_default_str();
  app.add_option("--out", o.metrics_path, "per-step metrics as JSON lines");
  app.add_flag("--quiet-sink", quiet_sink, "do not print what the logging sink receives");
  std::string conceptwatch_endpoint;
  app.add_option("--conceptwatch", conceptwatch_endpoint,
                 "publish checkpoints to conceptwatchd at this ingest endpoint, e.g. tcp://127.0.0.1:7781");
  cw::ClientKeyFiles conceptwatch_keys;  // for a daemon with [auth] keys (README "Authentication")
  app.add_option("--server-key", conceptwatch_keys.server_key, "the daemon's CURVE public key file")
      ->envname("CONCEPTWATCH_SERVER_KEY");
  app.add_option("--secret-key", conceptwatch_keys.secret_key, "this job's CURVE secret key file (in the daemon's ingest_keys)")
      ->envname("CONCEPTWATCH_SECRET_KEY");
  CLI11_PARSE(app, argc, argv);
  o.model.layer_norm = !no_layer_norm;
  o.model.positions = *cw::parse_position_encoding(positions);

  try {
    std::ostringstream discard;
    cw::LoggingSink logging_sink(quiet_sink ? static_cast<std::ostream&>(discard) : std::cout);
    cw::PublisherOptions publisher_options;
    publisher_options.endpoint = conceptwatch_endpoint;
    publisher_options.keys = conceptwatch_keys;
    publisher_options.close_timeout = std::chrono::seconds(30);
    cw::ConceptwatchSink conceptwatch_sink(publisher_options, &std::cout);
    cw::SnapshotSink& sink = conceptwatch_endpoint.empty() ? static_cast<cw::SnapshotSink&>(logging_sink)
                                                           : static_cast<cw::SnapshotSink&>(conceptwatch_sink);
    const cw::TrainSummary summary = cw::train_tinygpt(o, sink, &std::cout);
    cw::print_summary(o, summary, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "tinygpt: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
