// What the daemon's analysis does per (run, tap): the crosscoder's options
// and size, the trainer threads' number, priority and memory cap, and the
// monitor's detectors (the [crosscoder], [analysis], [emergence] and
// [transitions] sections of deploy/conceptwatchd.toml). Header-only: the daemon's configuration and
// the CLI's refit read it without the workers.
#ifndef CW_ANALYSIS_ANALYSIS_CONFIG_H_
#define CW_ANALYSIS_ANALYSIS_CONFIG_H_

#include <algorithm>
#include <cstdint>

#include "analysis/tap_monitor.h"
#include "analysis/trainer_priority.h"
#include "crosscoder/crosscoder_options.h"

namespace cw {

struct AnalysisConfig {
  bool enabled = true;
  CrosscoderOptions crosscoder;   // d_model comes from the tap
  int64_t features_per_dim = 8;   // n_features = this × d_model unless crosscoder.n_features is set
  int64_t max_features = 16384;
  int64_t top_k = 8;
  // The worker thread's scheduling: idle by default, so that a daemon on the
  // training job's machine never takes CPU the job wants (README "Benchmarks").
  TrainerPriority priority = TrainerPriority::kIdle;
  // [analysis] workers: the trainer threads all taps share (analysis/trainer_pool.h).
  // One: on a small machine one trainer at a time is faster than two
  // competing for the cores.
  int64_t workers = 1;
  // [analysis] memory_cap_bytes: what the trainers may hold at once
  // (analysis/memory_budget.h); 0: half the machine's physical memory.
  uint64_t memory_cap_bytes = 0;
  // [analysis] trainer_ranks: processes the training steps of every update
  // are spread over, the daemon being one of them (docs/SCALE_OUT.md
  // "Trainer ranks"). 0: the daemon trains alone with the one-process
  // step; 1: alone with the ranks' arithmetic (what any number of ranks
  // trains to float rounding: a state it can be resumed from on more).
  int64_t trainer_ranks = 0;
  // [analysis] trainer_listen: host:port where the ranks meet (the daemon
  // serves it; port 0: any free one, which the ranks it starts are told).
  std::string trainer_listen = "127.0.0.1:0";
  // [analysis] spawn_trainer_ranks: the daemon starts ranks 1 … N−1 itself
  // (conceptwatch-trainer beside conceptwatchd, restarted when one exits);
  // false: they are started elsewhere (another machine) with the address.
  bool spawn_trainer_ranks = true;
  std::string trainer_program;  // "" : conceptwatch-trainer beside this executable
  // [analysis] trainer_rank_timeout_seconds: how long a budget waits for
  // every rank to join, and for any one sum, before the update fails.
  double trainer_rank_timeout_seconds = 60;
  // [crosscoder] refine_steps: after an update that took in new snapshots,
  // the steps an idle daemon trains on the snapshots it holds (no new head,
  // no recruitment; whole update budgets, so up to one budget more) before
  // it waits for the next snapshot. A daemon that
  // trails a fast job trains only a few steps per update (22 at the demo's
  // 78 heads), so its dictionary ends far from what the same objective
  // reaches (docs/CROSSCODER.md "Refining while idle"). 4,000 took the demo
  // run's emergence dates to 81% agreement with the offline refit's (74%
  // after 2,000); 8,000 because 4,000 left a planted d 160 stream's 1,280
  // latents short of trained (rising atoms dated 58/67 → 61/67, L0 1.25 →
  // 1.17 of the planted) with no more late claims on the streams where
  // refinement made them ("Refining twice as long"). 0: off.
  int64_t refine_steps = 8000;
  // [crosscoder] refine_after_idle_seconds: refinement starts once no
  // snapshot of the tap has arrived and no update has ended for this long,
  // so that snapshots published back to back (an import, a job that
  // checkpoints faster than the daemon trains, a stream that publishes the
  // next once the last is taken in) are not delayed by it.
  double refine_after_idle_seconds = 10;
  MonitorOptions monitor;
};

// The dictionary size when none is configured: features_per_dim × d_model,
// at most max_features.
inline int64_t default_feature_count(const AnalysisConfig& config, int64_t d_model) {
  return std::min(config.max_features, config.features_per_dim * d_model);
}

// The crosscoder a tap of width d_model gets: the configured options, sized
// by default_feature_count where n_features is not set.
inline CrosscoderOptions crosscoder_options_for(const AnalysisConfig& config, int64_t d_model) {
  CrosscoderOptions options = config.crosscoder;
  options.d_model = d_model;
  if (options.n_features <= 0) options.n_features = default_feature_count(config, d_model);
  return options;
}

}  // namespace cw

#endif  // CW_ANALYSIS_ANALYSIS_CONFIG_H_
