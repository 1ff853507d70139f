// cw_bench_tinygpt: what the conceptwatch hooks cost a real pre-training job
// (README "Benchmarks"). tinygpt trains in-process in six modes, the same
// steps and checkpoints in each: (a) alone, (b) with its probe forward pass
// and a sink that discards, (c) with the hooks and a real conceptwatchd,
// store-only and with its crosscoder on (trainer at the default idle
// priority, and at normal priority), (d) with the hooks and the daemon
// down. Repeats are interleaved in rotating order (backwards on odd repeats)
// so that drift on a shared machine hits every mode alike; ratios are per
// repeat, then the median.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "bench/common/load_average.h"
#include "bench/common/sample_stats.h"
#include "bench/tinygpt/mode_run.h"
#include "examples/tinygpt/checkpoint_schedule.h"

namespace {

using cw::bench::Mode;
using cw::bench::median;
using cw::bench::percentile;

constexpr double kGoal = 0.02;  // the issue: <= 2 % slowdown excluding the probe forward

struct Flags {
  int repeats = 6;
  bool default_malloc = false;
  cw::bench::ModeSettings settings;
};

std::string each_text(const std::vector<double>& values, const char* format) {
  std::string text;
  char buffer[32];
  for (double value : values) {
    std::snprintf(buffer, sizeof(buffer), format, value);
    text += (text.empty() ? "" : " ") + std::string(buffer);
  }
  return text;
}

std::string schedule_text(const cw::TrainOptions& o) {
  const auto steps = cw::CheckpointSchedule(o.log_spaced_until, o.snapshot_every, o.steps).steps();
  return std::to_string(steps.size()) + " checkpoints (0, 1, 2, 4, ... " + std::to_string(o.log_spaced_until) +
         ", every " + std::to_string(o.snapshot_every) + ")";
}

int run(const Flags& flags) {
  const cw::TrainOptions& o = flags.settings.train;
  std::string taps;
  for (const auto& tap : o.taps) taps += (taps.empty() ? "" : ", ") + tap;
  std::printf("cw_bench_tinygpt: tinygpt %s, %lld layers, d %lld, %lld heads, batch %lld, %d thread(s); %llu steps and "
              "%s per run; taps %s; %d interleaved repeats, modes in rotating order; medians\n",
              o.dataset.c_str(), (long long)o.model.n_layers, (long long)o.model.d_model, (long long)o.model.n_heads,
              (long long)o.batch, o.threads, (unsigned long long)o.steps, schedule_text(o).c_str(), taps.c_str(),
              flags.repeats);
  std::printf("load average at start: %s; malloc: %s\n\n", cw::bench::load_average().c_str(),
              flags.default_malloc ? "glibc defaults (adaptive thresholds)"
                                   : "mmap threshold 32 MiB, trim threshold 1 GiB (fixed; --default-malloc: glibc's)");
  std::fflush(stdout);

  constexpr int kModes = std::size(cw::bench::kAllModes);
  std::map<Mode, std::vector<double>> steps_per_s, cpu_ms, checkpoint_s, training_cpu_ms, hooks_cpu_ms, other_cpu_ms,
      sink_ms;
  std::map<Mode, cw::PublisherStats> publisher;
  for (int r = 0; r < flags.repeats; ++r) {
    for (int i = 0; i < kModes; ++i) {
      // Rotating, and backwards on odd repeats: in a plain rotation every
      // mode always follows the same one (the daemon-down runs always came
      // right after the crosscoder daemon's, and measured 17% slow).
      const int position = r % 2 == 0 ? i : kModes - 1 - i;
      const Mode mode = cw::bench::kAllModes[(r + position) % kModes];
      const std::string run_name = "bench-" + std::to_string(int(mode)) + "-" + std::to_string(r);
      const auto result = cw::bench::run_mode(mode, flags.settings, run_name);
      steps_per_s[mode].push_back(result.steps_per_second);
      cpu_ms[mode].push_back(result.cpu_ms_per_step);
      training_cpu_ms[mode].push_back(result.training_thread_cpu_ms_per_step);
      hooks_cpu_ms[mode].push_back(result.hooks_threads_cpu_ms_per_step);
      other_cpu_ms[mode].push_back(result.other_threads_cpu_ms_per_step);
      double in_sink = 0;
      for (double seconds : result.checkpoint_seconds) in_sink += seconds;
      sink_ms[mode].push_back(1e3 * in_sink / double(o.steps));
      auto& all = checkpoint_s[mode];
      all.insert(all.end(), result.checkpoint_seconds.begin(), result.checkpoint_seconds.end());
      auto& p = publisher[mode];
      p.published += result.publisher.published;
      p.acked += result.publisher.acked;
      p.dropped += result.publisher.dropped;
      std::fprintf(stderr, "repeat %d/%d  %-34s %6.2f steps/s  %6.2f CPU ms/step\n", r + 1, flags.repeats,
                   cw::bench::mode_label(mode), result.steps_per_second, result.cpu_ms_per_step);
    }
  }

  std::printf("  %-42s %8s %9s   %s\n", "mode", "steps/s", "CPU ms", "[steps/s of each repeat]");
  for (Mode mode : cw::bench::kAllModes) {
    std::printf("  %-42s %8.2f %9.2f   [%s]\n", cw::bench::mode_label(mode), median(steps_per_s[mode]),
                median(cpu_ms[mode]), each_text(steps_per_s[mode], "%.2f").c_str());
  }
  std::printf("  (CPU ms: the job process's CPU time per step, sender threads included, the daemon not)\n");

  // Paired within a repeat (the runs minutes apart at most), then the median.
  // CPU time per step is inverted so that both ratios read as speed.
  auto ratios = [&](std::map<Mode, std::vector<double>>& values, Mode over, Mode base, bool invert) {
    std::vector<double> r;
    for (int i = 0; i < flags.repeats; ++i) {
      const double ratio = values[over][i] / values[base][i];
      r.push_back(invert ? 1 / ratio : ratio);
    }
    return r;
  };
  auto print_ratio = [&](const char* name, Mode over, Mode base, bool goal) {
    for (bool cpu : {false, true}) {
      const auto r = cpu ? ratios(cpu_ms, over, base, true) : ratios(steps_per_s, over, base, false);
      const double slowdown = 1 - median(r);
      std::printf("  %-36s %-5s %8.3f %8.1f%%   [%s]%s\n", cpu ? "" : name, cpu ? "CPU" : "wall", median(r),
                  100 * slowdown, each_text(r, "%.3f").c_str(),
                  goal ? (slowdown <= kGoal ? "  goal <= 2%: met" : "  goal <= 2%: MISSED") : "");
    }
  };
  std::printf("\n  %-42s %8s %9s   %s\n", "speed ratio (per repeat, then median)", "median", "slowdown",
              "[each repeat]");
  print_ratio("(b)/(a) the probe forward's own cost", Mode::kProbeOnly, Mode::kNoHooks, false);
  print_ratio("(c)/(b) hooks, daemon --store-only", Mode::kDaemonStoreOnly, Mode::kProbeOnly, true);
  print_ratio("(c)/(b) hooks, daemon crosscoder on", Mode::kDaemonCrosscoder, Mode::kProbeOnly, true);
  print_ratio("(c)/(b) crosscoder, normal priority", Mode::kDaemonCrosscoderNormalPriority, Mode::kProbeOnly,
              false);
  print_ratio("(d)/(b) hooks, daemon down", Mode::kDaemonDown, Mode::kProbeOnly, true);

  // The hooks' cost counted directly: what the training thread spends in
  // publish() plus all CPU of the hooks' threads (sender, ZeroMQ; told apart
  // by name), per step, over the job's own CPU per step in (b) (its
  // training thread and, with --threads > 1, torch's pool). An upper bound on
  // the slowdown they cause when those threads compete for the training
  // thread's core, and, unlike the ratios above, not moved by how fast the
  // machine runs the training thread in that minute (its CPU per step for
  // the same work varied by ±10% between runs here).
  std::printf("\n  %-42s %8s %8s %8s %9s   %s\n", "the hooks' own cost, counted (ms per step)", "publish", "threads",
              "sum", "of (b)", "[each repeat]");
  std::vector<double> base;
  for (int i = 0; i < flags.repeats; ++i)
    base.push_back(training_cpu_ms[Mode::kProbeOnly][i] + other_cpu_ms[Mode::kProbeOnly][i]);
  for (Mode mode : cw::bench::kAllModes) {
    if (!cw::bench::uses_hooks(mode)) continue;
    std::vector<double> share;
    for (int i = 0; i < flags.repeats; ++i) share.push_back((sink_ms[mode][i] + hooks_cpu_ms[mode][i]) / base[i]);
    const double cost = median(share);
    std::printf("  %-42s %8.3f %8.3f %8.3f %8.2f%%   [%s]  goal <= 2%%: %s\n", cw::bench::mode_label(mode),
                median(sink_ms[mode]), median(hooks_cpu_ms[mode]), median(sink_ms[mode]) + median(hooks_cpu_ms[mode]),
                100 * cost, each_text(share, "%.4f").c_str(), cost <= kGoal ? "met" : "MISSED");
  }
  std::printf("  (the job's CPU per step in (b): %.2f ms, median; [%s])\n", median(base),
              each_text(base, "%.2f").c_str());

  std::printf("\n  %-42s %8s %8s %8s %6s   %s\n", "inside the sink per checkpoint (ms)", "p50", "p99", "max", "n",
              "arrays published / stored / dropped");
  for (Mode mode : cw::bench::kAllModes) {
    if (mode == Mode::kNoHooks) continue;
    const auto& s = checkpoint_s[mode];
    const auto& p = publisher[mode];
    std::printf("  %-42s %8.3f %8.3f %8.3f %6zu   %llu / %llu / %llu\n", cw::bench::mode_label(mode),
                1e3 * median(s), 1e3 * percentile(s, 0.99), 1e3 * cw::bench::maximum(s), s.size(),
                (unsigned long long)p.published, (unsigned long long)p.acked, (unsigned long long)p.dropped);
  }
  std::printf("\nload average after the runs: %s\n", cw::bench::load_average().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  cw::TrainOptions& o = flags.settings.train;
  o.dataset = "repeat";
  o.steps = 400;
  o.log_spaced_until = 64;  // deploy/demo.sh's schedule
  o.snapshot_every = 20;
  o.taps = {"blocks.1.resid_post"};
  flags.settings.daemon_path = CW_CONCEPTWATCHD_PATH;
  flags.settings.crosscoder_config = CW_SOURCE_DIR "/deploy/demo.toml";

  CLI::App app{"cw_bench_tinygpt: tinygpt steps/s without hooks, with the probe forward, with hooks and "
               "conceptwatchd attached, and with the daemon down"};
  app.add_option("--steps", o.steps, "optimizer steps per run")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--repeats", flags.repeats, "runs of each mode (median reported)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--log-spaced-until", o.log_spaced_until, "checkpoints at 0, 1, 2, 4, ... up to this step")
      ->capture_default_str();
  app.add_option("--snapshot-every", o.snapshot_every, "then a checkpoint every N steps")->capture_default_str();
  app.add_option("--tap", o.taps, "residual taps published (repeatable)")->capture_default_str();
  app.add_option("--layers", o.model.n_layers, "transformer blocks")->capture_default_str();
  app.add_option("--d-model", o.model.d_model, "residual stream width")->capture_default_str();
  app.add_option("--threads", o.threads, "torch intra-op threads of the job")->capture_default_str();
  app.add_option("--daemon", flags.settings.daemon_path, "conceptwatchd executable")->capture_default_str();
  app.add_option("--crosscoder-config", flags.settings.crosscoder_config,
                 "conceptwatchd --config for the crosscoder-on mode")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  app.add_option("--work-dir", flags.settings.work_dir, "where temporary stores go (default: the system temp dir)");
  app.add_flag("--default-malloc", flags.default_malloc,
               "keep glibc's adaptive malloc thresholds (see below) instead of fixing them");
  CLI11_PARSE(app, argc, argv);
  // glibc adapts its mmap threshold and heap trimming to what the process
  // frees, process-wide: under its defaults tinygpt takes ~1,700 page faults
  // per step (1.03 M per 600 steps; 29 K with the thresholds fixed), and its
  // speed moved ±20% with unrelated changes to the allocation pattern (the
  // probe forward made it 20% faster in one run, 12% slower in the next).
  // Fixed thresholds, as PyTorch CPU jobs are commonly run (or jemalloc /
  // tcmalloc), leave the hooks' own cost measurable. --default-malloc keeps
  // glibc's behaviour.
  if (!flags.default_malloc) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  try {
    return run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cw_bench_tinygpt: %s\n", e.what());
    return 1;
  }
}
