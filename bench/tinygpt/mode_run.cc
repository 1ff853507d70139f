#include "bench/tinygpt/mode_run.h"

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>

#include "bench/common/daemon_process.h"
#include "bench/common/temp_dir.h"
#include "bench/tinygpt/discard_sink.h"
#include "bench/tinygpt/timed_sink.h"
#include "examples/tinygpt/conceptwatch_sink.h"

namespace cw::bench {
namespace {

ModeResult train(const TrainOptions& options, SnapshotSink& sink, std::function<void()> after_probe_set) {
  TimedSink timed(sink, std::move(after_probe_set));
  const TrainSummary summary = train_tinygpt(options, timed, nullptr);
  ModeResult result;
  result.steps_per_second = double(summary.steps) / summary.seconds;
  result.cpu_ms_per_step = 1e3 * timed.process_cpu_seconds() / double(summary.steps);
  const ThreadCpuSplit threads = timed.thread_cpu();
  result.training_thread_cpu_ms_per_step = 1e3 * threads.thread / double(summary.steps);
  result.hooks_threads_cpu_ms_per_step = 1e3 * threads.hooks / double(summary.steps);
  result.other_threads_cpu_ms_per_step = 1e3 * threads.others / double(summary.steps);
  result.checkpoint_seconds = timed.checkpoint_seconds();
  return result;
}

}  // namespace

const char* mode_label(Mode mode) {
  switch (mode) {
    case Mode::kNoHooks: return "(a) no hooks";
    case Mode::kProbeOnly: return "(b) probe forward only";
    case Mode::kDaemonStoreOnly: return "(c) hooks, daemon --store-only";
    case Mode::kDaemonCrosscoder: return "(c) hooks, daemon crosscoder on";
    case Mode::kDaemonCrosscoderNormalPriority: return "(c) crosscoder on, trainer normal priority";
    case Mode::kDaemonDown: return "(d) hooks, daemon down";
  }
  return "?";
}

bool uses_hooks(Mode mode) { return mode != Mode::kNoHooks && mode != Mode::kProbeOnly; }

ModeResult run_mode(Mode mode, const ModeSettings& settings, const std::string& run_name) {
  TrainOptions options = settings.train;
  options.run_name = run_name;
  options.run_probes = mode != Mode::kNoHooks;
  if (!uses_hooks(mode)) {
    DiscardSink discard;
    return train(options, discard, nullptr);
  }

  // Declared before the sink so that the publisher closes first.
  std::optional<TempDir> dir;
  std::optional<DaemonProcess> daemon;
  PublisherOptions publisher;
  if (mode == Mode::kDaemonDown) {
    publisher.endpoint = "tcp://127.0.0.1:" + std::to_string(free_loopback_port());
    publisher.close_timeout = std::chrono::milliseconds(100);  // nobody will ack
  } else {
    dir.emplace(settings.work_dir, "cw-bench-tinygpt");
    std::vector<std::string> args = {"--config", settings.crosscoder_config};
    if (mode == Mode::kDaemonStoreOnly) args = {"--store-only"};
    if (mode == Mode::kDaemonCrosscoderNormalPriority) args.insert(args.end(), {"--crosscoder-priority", "normal"});
    daemon.emplace(settings.daemon_path, dir->path() + "/data", dir->path() + "/conceptwatchd.log", args);
    publisher.endpoint = daemon->ingest_endpoint();
    publisher.close_timeout = std::chrono::seconds(60);
  }
  ConceptwatchSink sink(publisher, nullptr);
  ModeResult result = train(options, sink, [&] {
    // The Hello round trip is set-up, not training: wait for it before step 0.
    if (daemon) daemon->wait_for([&] { return sink.stats().hello_acked; }, "answer the Hello");
  });
  result.publisher = sink.stats();
  if (daemon) {
    daemon->check_alive();
    if (result.publisher.acked < result.publisher.published) {
      throw std::runtime_error(std::string(mode_label(mode)) + ": conceptwatchd stored " +
                               std::to_string(result.publisher.acked) + " of " +
                               std::to_string(result.publisher.published) + " arrays within 60 s; see its log");
    }
  }
  return result;
}

}  // namespace cw::bench
