#include "cli/import_command.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/npy_file.h"
#include "cli/text_table.h"
#include "hooks/publisher.h"
#include "ingest/ingest.h"
#include "query/daemon_client.h"
#include "query/query_handler.h"
#include "schema/checksum.h"
#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"

namespace cw {
namespace {

struct ImportArgs {
  std::string run, tap, activations, probe_tokens, vocabulary;
  uint64_t step = 0;
  uint64_t tokens_seen = 0;
  uint32_t sequence_length = 0;
  std::vector<std::string> scalars;
  double timeout_s = 120;
};

ProbeSet read_probe(const ImportArgs& args) {
  NpyArray tokens = read_npy(args.probe_tokens);
  ProbeSet probe;
  probe.token_ids = tokens.as_token_ids();
  if (tokens.shape.size() == 2) {
    probe.sequence_length = uint32_t(tokens.shape[1]);
  } else if (args.sequence_length > 0) {
    probe.sequence_length = args.sequence_length;
  } else {
    throw std::runtime_error("--probe-tokens is 1-D: give --sequence-length, or save it as [n_sequences, length]");
  }
  if (!args.vocabulary.empty()) {
    std::ifstream in(args.vocabulary);
    if (!in) throw std::runtime_error("cannot open vocabulary '" + args.vocabulary + "'");
    for (std::string line; std::getline(in, line);) probe.vocabulary.push_back(line);
  }
  return probe;
}

RunDescription from_json(const nlohmann::json& json) {
  RunDescription run;
  run.run = json["run"];
  run.dtype = parse_dtype(json["dtype"]).value_or(DType::kF32);
  for (const auto& tap : json["taps"]) run.taps.push_back({tap["name"], tap["d_model"]});
  for (const auto& task : json["tasks"]) {
    run.tasks.push_back({task["name"], task["token_ids"].get<std::vector<uint32_t>>(), task["sequence_length"], task["metric"]});
  }
  run.probe.token_ids = json["probe"]["token_ids"].get<std::vector<uint32_t>>();
  run.probe.sequence_length = json["probe"]["sequence_length"];
  run.probe.vocabulary = json["probe"]["vocabulary"].get<std::vector<std::string>>();
  return run;
}

// The run as it should be after this import: the stored description (if
// any), the probe set from --probe-tokens (if given), and the tap.
RunDescription describe_run(const CliContext& context, const ImportArgs& args, uint32_t d_model, DType dtype) {
  std::optional<RunDescription> existing;
  try {
    existing = from_json(ask(context, "run_description", {{"run", args.run}}).json);
  } catch (const QueryError&) {
  } catch (const StoreError&) {  // no store yet: the run is new
  }
  RunDescription run;
  if (existing) run = *existing;
  run.run = args.run;
  if (!existing) run.dtype = dtype;
  if (!args.probe_tokens.empty()) {
    run.probe = read_probe(args);
  } else if (!existing) {
    throw std::runtime_error("run '" + args.run + "' is unknown: give its probe token ids once with --probe-tokens FILE.npy");
  }
  if (!run.find_tap(args.tap)) run.taps.push_back({args.tap, d_model});
  return run;
}

void import_via_daemon(const CliContext& context, const RunDescription& run, const SnapshotMeta& meta, const void* data,
                       double timeout_s) {
  PublisherOptions options;
  options.endpoint = context.ingest_endpoint;
  options.keys = context.keys;
  options.when_full = WhenFull::kBlock;
  options.max_queue_bytes = std::max<uint64_t>(options.max_queue_bytes, meta.bytes());
  options.close_timeout = std::chrono::milliseconds(0);
  Publisher publisher(run, options);
  publisher.publish(meta, data);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!publisher.flush(std::chrono::milliseconds(200))) {
    const PublisherStats stats = publisher.stats();
    if (stats.rejected > 0 || !stats.last_error.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the daemon did not store the snapshot within " + std::to_string(int(timeout_s)) + " s" +
                               (stats.last_error.empty() ? "" : ": " + stats.last_error));
    }
  }
  const PublisherStats stats = publisher.stats();
  if (stats.acked == 0) throw std::runtime_error("the daemon refused it: " + stats.last_error);
  if (stats.duplicates > 0) std::cerr << "already stored with identical contents: stored once\n";
}

// The daemon is down: run the same frames through the same ingest code.
void import_locally(const CliContext& context, const RunDescription& run, SnapshotMeta meta, const void* data) {
  auto store = Store::open(context.data_dir);
  Ingest ingest(*store, IngestLimits{});
  auto check = [](const std::vector<Frame>& replies) {
    for (const Frame& reply : replies) {
      IncomingMessage in(reply.data(), reply.size(), 1 << 20);
      auto body = in.get().getBody();
      if (body.isError()) throw std::runtime_error(to_string(body.getError().getMessage()));
      if (body.isAck() && body.getAck().getDuplicate()) std::cerr << "already stored with identical contents: stored once\n";
    }
  };
  const Frame hello = encode_hello_frame(run);
  check(ingest.handle("import", hello.data(), hello.size()));
  meta.checksum = checksum64(data, meta.bytes());
  SnapshotFrames frames(meta, data, run.probe.hash(), 4ull << 20);
  for (uint32_t i = 0; i < frames.frame_count(); ++i) {
    const Frame frame = frames.frame(i);
    check(ingest.handle("import", frame.data(), frame.size()));
  }
}

void run_import(const CliContext& context, const ImportArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  NpyArray activations = read_npy(args.activations);
  std::optional<DType> dtype = activations.descr == "<f4" ? std::optional(DType::kF32)
                               : activations.descr == "<f2" ? std::optional(DType::kF16)
                                                            : std::nullopt;
  if (!dtype) throw std::runtime_error("'" + args.activations + "' holds '" + activations.descr + "': save float32 or float16");
  if (activations.shape.size() != 2) throw std::runtime_error("'" + args.activations + "' must be 2-D [n_tokens, d_model]");

  SnapshotMeta meta;
  meta.key = {args.run, args.tap, args.step, ArrayKind::kProbeActivations, ""};
  meta.tokens_seen = args.tokens_seen;
  meta.n_tokens = uint32_t(activations.shape[0]);
  meta.d_model = uint32_t(activations.shape[1]);
  meta.dtype = *dtype;
  for (const auto& scalar : args.scalars) {
    const auto eq = scalar.find('=');
    if (eq == std::string::npos) throw std::runtime_error("--scalar wants NAME=VALUE, got '" + scalar + "'");
    meta.scalars.emplace_back(scalar.substr(0, eq), std::stod(scalar.substr(eq + 1)));
  }
  const RunDescription run = describe_run(context, args, meta.d_model, meta.dtype);
  if (meta.n_tokens != run.probe.n_tokens()) {
    throw std::runtime_error("'" + args.activations + "' has " + std::to_string(meta.n_tokens) +
                             " rows but the probe set has " + std::to_string(run.probe.n_tokens()) + " tokens");
  }
  bool via_daemon = true;
  try {
    DaemonClient(context.query_endpoint, std::chrono::milliseconds(context.timeout_ms), context.keys).query("status");
  } catch (const DaemonUnreachable&) {
    via_daemon = false;
  }
  if (via_daemon) {
    import_via_daemon(context, run, meta, activations.data.data(), args.timeout_s);
  } else {
    std::cerr << "conceptwatchd is not reachable at " << context.query_endpoint << "; importing into " << context.data_dir
              << " directly\n";
    import_locally(context, run, meta, activations.data.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json result = {{"run", args.run}, {"tap", args.tap}, {"step", args.step}, {"bytes", meta.bytes()},
                           {"via", via_daemon ? "daemon" : "data_dir"}, {"seconds", seconds}};
  print_answer(context, result, [&](const nlohmann::json&) {
    std::cout << "imported " << meta.key.describe() << " [" << meta.n_tokens << " x " << meta.d_model << " "
              << dtype_name(meta.dtype) << ", " << human_bytes(double(meta.bytes())) << "] in " << seconds << " s\n";
  });
}

}  // namespace

// An import reads the run's description (its taps and probe set) and then
// publishes: with CURVE, both roles.
void run_import_as_both_roles(const CliContext& context, const ImportArgs& args) {
  try {
    run_import(context, args);
  } catch (const DaemonRefused& e) {
    throw DaemonRefused(std::string(e.what()) +
                        "; import reads the run's description, then publishes: its key must be in both query_keys "
                        "and ingest_keys");
  }
}

void add_import_command(CLI::App& app, const CliContext& context, int* exit_code) {
  // Owned by the callback, which CLI11 keeps as long as the app.
  auto args = std::make_shared<ImportArgs>();
  auto* command = app.add_subcommand("import", "store activations of an existing checkpoint from a .npy file");
  command->add_option("activations", args->activations, "[n_tokens, d_model] float32/float16 .npy")->required()->check(CLI::ExistingFile);
  command->add_option("--run", args->run, "run id")->required();
  command->add_option("--tap", args->tap, "tap name, e.g. blocks.6.resid_post")->required();
  command->add_option("--step", args->step, "training step of the checkpoint")->required();
  command->add_option("--tokens-seen", args->tokens_seen, "tokens trained on at this step");
  command->add_option("--scalar", args->scalars, "NAME=VALUE, e.g. loss=3.21 (repeatable)");
  command->add_option("--probe-tokens", args->probe_tokens, "probe token ids .npy ([n_seq, len] or 1-D); needed once per run")
      ->check(CLI::ExistingFile);
  command->add_option("--sequence-length", args->sequence_length, "probe sequence length when --probe-tokens is 1-D");
  command->add_option("--vocab", args->vocabulary, "text file, one token per line (line i = token id i)")->check(CLI::ExistingFile);
  command->add_option("--wait", args->timeout_s, "seconds to wait for the daemon to store it")->capture_default_str();
  command->callback([&context, exit_code, args] {
    run_import_as_both_roles(context, *args);
    *exit_code = 0;
  });
}

}  // namespace cw
