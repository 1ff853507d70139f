// cw_bench_ingest: durable ingest throughput next to its two ceilings and
// publish() latency next to one memcpy, measured in one run (README
// "Benchmarks"). Each throughput is N snapshots back to back, timed from the
// first send to the last durable acknowledgement; repeats are interleaved
// so that drift on a shared machine hits every row alike; medians shown.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench/common/load_average.h"
#include "bench/common/sample_stats.h"
#include "bench/ingest/bench_data.h"
#include "bench/ingest/copy_baseline.h"
#include "bench/ingest/ingest_run.h"
#include "bench/ingest/stage_breakdown.h"
#include "bench/ingest/store_ceiling.h"
#include "bench/ingest/zmq_ceiling.h"
#include "hooks/publisher.h"

namespace {

using cw::bench::load_average;
using cw::bench::maximum;
using cw::bench::median;
using cw::bench::percentile;

constexpr double kMiB = 1024.0 * 1024.0;

struct Flags {
  uint64_t snapshot_mib = 64;
  uint32_t count = 12;
  uint32_t paced_count = 6;
  int repeats = 3;
  std::string daemon = CW_CONCEPTWATCHD_PATH;
  std::string work_dir;  // empty: the system temp dir
  bool breakdown = true;
};

void append(std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); }

std::string runs_text(const std::vector<double>& values) {
  std::string text;
  for (double value : values) text += (text.empty() ? "" : " ") + std::to_string(int(value + 0.5));
  return text;
}

void print_throughput(const char* name, const std::vector<double>& mib_per_s) {
  std::printf("  %-48s %8.0f   [%s]\n", name, median(mib_per_s), runs_text(mib_per_s).c_str());
}

void print_latency(const char* name, const std::vector<double>& seconds) {
  std::printf("  %-48s %8.2f %8.2f %8.2f %6zu\n", name, 1e3 * median(seconds), 1e3 * percentile(seconds, 0.99),
              1e3 * maximum(seconds), seconds.size());
}

int run(const Flags& flags) {
  const cw::bench::BenchData data = cw::bench::make_bench_data(flags.snapshot_mib);
  const uint64_t chunk_bytes = cw::PublisherOptions().chunk_bytes;
  const int in_flight = cw::PublisherOptions().max_in_flight;
  const double mib_per_run = double(flags.count) * double(data.bytes()) / kMiB;
  std::printf("cw_bench_ingest: %u snapshots of %.0f MiB ([%llu x %u] fp32) per run, %d interleaved runs, "
              "%llu MiB chunks, %d in flight; medians, MiB = 2^20 bytes\n",
              flags.count, data.bytes() / kMiB, static_cast<unsigned long long>(data.run.probe.n_tokens()),
              cw::bench::kBenchDModel, flags.repeats, static_cast<unsigned long long>(chunk_bytes >> 20), in_flight);
  std::printf("load average at start: %s\n\n", load_average().c_str());
  std::fflush(stdout);

  std::vector<double> ingest, ingest_curve, zmq, store, publish_phase, publish_seconds, paced_seconds;
  std::vector<double> warm_copy, fresh_copy, huge_page_copy;
  for (int r = 0; r < flags.repeats; ++r) {
    const auto result = cw::bench::run_ingest(data, flags.count, flags.paced_count, flags.daemon, flags.work_dir);
    ingest.push_back(mib_per_run / result.seconds);
    publish_phase.push_back(result.publish_phase_seconds);
    append(publish_seconds, result.publish_seconds);
    append(paced_seconds, result.paced_publish_seconds);
    append(warm_copy, result.warm_copy_seconds);
    append(fresh_copy, result.fresh_copy_seconds);
    append(huge_page_copy, result.huge_page_copy_seconds);
    ingest_curve.push_back(
        mib_per_run / cw::bench::run_ingest(data, flags.count, 0, flags.daemon, flags.work_dir, /*curve=*/true).seconds);
    zmq.push_back(mib_per_run / cw::bench::run_zmq_ceiling(data, flags.count, chunk_bytes, in_flight));
    store.push_back(mib_per_run / cw::bench::run_store_ceiling(data, flags.count, flags.work_dir));
    std::fprintf(stderr, "run %d/%d: ingest %.0f, with CURVE %.0f, ZeroMQ %.0f, store %.0f MiB/s\n", r + 1, flags.repeats,
                 ingest.back(), ingest_curve.back(), zmq.back(), store.back());
  }

  const double lower_ceiling = std::min(median(zmq), median(store));
  const double ratio = median(ingest) / lower_ceiling;
  std::printf("  %-48s %8s   %s\n", "throughput", "MiB/s", "[each run]");
  print_throughput("durable ingest: Publisher -> conceptwatchd -> RocksDB", ingest);
  print_throughput("  the same with CURVE keys (encrypted)", ingest_curve);
  print_throughput("ceiling A: ZeroMQ DEALER->ROUTER tcp loopback", zmq);
  print_throughput("ceiling B: SnapshotTable::put, synced WAL, no net", store);
  std::printf("  %-48s %7.0f%%   goal >= 50%%: %s\n\n", "ingest / lower ceiling", 100 * ratio,
              ratio >= 0.5 ? "met" : "MISSED");

  std::printf("  %-48s %8s %8s %8s %6s\n", "latency (ms)", "p50", "p99", "max", "n");
  print_latency("publish(), back to back (the throughput runs)", publish_seconds);
  print_latency("all publish() calls of a run (back to back)", publish_phase);
  if (!paced_seconds.empty()) {
    // Measured once per checkpoint, interleaved: same daemon, same load.
    print_latency("publish(), once per checkpoint (queue drained)", paced_seconds);
    print_latency("  one memcpy of the snapshot, warm buffer", warm_copy);
    print_latency("  one memcpy of the snapshot, fresh buffer", fresh_copy);
    print_latency("  one memcpy, fresh MADV_HUGEPAGE buffer", huge_page_copy);
    // Paired with the warm copy just before it: what publish() adds to the
    // copy it has to make, with the machine's other load mostly cancelled.
    std::vector<double> overhead;
    for (std::size_t i = 0; i < paced_seconds.size(); ++i) overhead.push_back(paced_seconds[i] - warm_copy[i]);
    print_latency("  publish() minus the warm memcpy before it", overhead);
    // The goal's "one memcpy" is the copy publish() makes: into a warm
    // spare buffer once per checkpoint, into a fresh one back to back.
    const double warm_bound = median(warm_copy) + 1e-3;
    const double fresh_bound = median(fresh_copy) + 1e-3;
    const double paced_p99 = percentile(paced_seconds, 0.99);
    const double p99 = percentile(publish_seconds, 0.99);
    std::printf("  %-48s %8.2f   once-per-checkpoint publish p99 within it: %s\n",
                "goal: warm-buffer memcpy p50 + 1 ms", 1e3 * warm_bound, paced_p99 <= warm_bound ? "yes" : "NO");
    std::printf("  %-48s %8.2f   back-to-back publish p99 within it: %s\n", "     fresh-buffer memcpy p50 + 1 ms",
                1e3 * fresh_bound, p99 <= fresh_bound ? "yes" : "NO");
  }
  std::printf("\n");
  std::printf("load average after the runs: %s\n\n", load_average().c_str());
  std::fflush(stdout);

  if (flags.breakdown) {
    const auto stages = cw::bench::measure_stages(data, chunk_bytes, 3, flags.work_dir);
    std::printf("  %-56s %8s %8s\n", "per-snapshot stage, alone on one thread", "ms", "MiB/s");
    for (const auto& stage : stages) {
      std::printf("  %-6s %-49s %8.1f %8.0f\n", stage.side.c_str(), stage.stage.c_str(), 1e3 * stage.seconds,
                  data.bytes() / kMiB / stage.seconds);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"cw_bench_ingest: durable ingest throughput vs. ZeroMQ and RocksDB ceilings, publish() latency"};
  app.add_option("--snapshot-mb", flags.snapshot_mib, "MiB per snapshot (d_model 1024, fp32)")->check(CLI::Range(1, 2048));
  app.add_option("--count", flags.count, "snapshots per run")->check(CLI::Range(1, 1000));
  app.add_option("--paced", flags.paced_count, "snapshots per run published once per checkpoint (latency only)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--repeats", flags.repeats, "runs of each measurement (median reported)")->check(CLI::Range(1, 100));
  app.add_option("--daemon", flags.daemon, "conceptwatchd executable")->capture_default_str();
  app.add_option("--work-dir", flags.work_dir, "where temporary stores go (default: the system temp dir)");
  app.add_flag("!--no-breakdown", flags.breakdown, "skip the per-stage timing table");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the in-process Ingest of the stage table
  try {
    return run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cw_bench_ingest: %s\n", e.what());
    return 1;
  }
}
