// One timed tinygpt training run in one of the benchmark's modes: the job
// alone, with its probe forward pass, or with the conceptwatch hooks and a
// real conceptwatchd (store-only or training its crosscoder) or none.
#ifndef CW_BENCH_TINYGPT_MODE_RUN_H_
#define CW_BENCH_TINYGPT_MODE_RUN_H_

#include <string>
#include <vector>

#include "examples/tinygpt/trainer.h"
#include "hooks/publisher.h"

namespace cw::bench {

enum class Mode {
  kNoHooks,           // (a) no probe forward, no publish
  kProbeOnly,         // (b) probe forward, a sink that discards
  kDaemonStoreOnly,   // (c) hooks, conceptwatchd --store-only
  kDaemonCrosscoder,  // (c) hooks, conceptwatchd training its crosscoder (trainer at idle priority, the default)
  kDaemonCrosscoderNormalPriority,  // (c) the same with --crosscoder-priority normal: what the default avoids
  kDaemonDown,        // (d) hooks, nothing listening at the endpoint
};

inline constexpr Mode kAllModes[] = {Mode::kNoHooks,          Mode::kProbeOnly,
                                     Mode::kDaemonStoreOnly,  Mode::kDaemonCrosscoder,
                                     Mode::kDaemonCrosscoderNormalPriority, Mode::kDaemonDown};

// Short label for tables, e.g. "(c) daemon, crosscoder on".
const char* mode_label(Mode mode);
bool uses_hooks(Mode mode);

struct ModeSettings {
  TrainOptions train;             // the job, identical in every mode
  std::string daemon_path;        // conceptwatchd
  std::string crosscoder_config;  // --config for the crosscoder-on modes
  std::string work_dir;           // temp data dirs; empty: the system temp dir
};

struct ModeResult {
  double steps_per_second = 0;     // training loop only: set-up and the final flush excluded
  double cpu_ms_per_step = 0;      // the job process's CPU time over the same loop
  double training_thread_cpu_ms_per_step = 0;  // of it, the training thread's
  double hooks_threads_cpu_ms_per_step = 0;    // the hooks' threads' (sender, ZeroMQ; by thread name)
  double other_threads_cpu_ms_per_step = 0;    // every other thread's (torch's pool with --threads > 1)
  std::vector<double> checkpoint_seconds;  // inside the sink per checkpoint (publish() with hooks)
  PublisherStats publisher;        // with hooks
};

// Throws std::runtime_error if the daemon fails or, with one attached, not
// every published array was stored.
ModeResult run_mode(Mode mode, const ModeSettings& settings, const std::string& run_name);

}  // namespace cw::bench

#endif  // CW_BENCH_TINYGPT_MODE_RUN_H_
