// cw_bench_stream_ranks: a streamed crosscoder's training budgets over two
// trainer ranks on this machine (rank 1 a forked process, Gloo on
// loopback), rank 1 reading its own heads' rows from the row files against
// rank 0 reading them and sending them, and one process (the ranks'
// arithmetic, no group) as the baseline; budgets alternate, medians of the
// per-step times; all three train the same steps, bit for bit, which it
// checks (docs/SCALE_OUT.md "Streamed crosscoders on ranks").
// Usage: cw_bench_stream_ranks [snapshots tokens d_model features batch steps repeats]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "analysis/row_file_source.h"
#include "analysis/stored_rows.h"
#include "bench/common/daemon_process.h"
#include "bench/common/sample_stats.h"
#include "bench/common/temp_dir.h"
#include "bench/stream/random_snapshots.h"
#include "crosscoder/compute_threads.h"
#include "crosscoder/crosscoder.h"
#include "crosscoder/trainer_ranks.h"

namespace cw {
namespace {

HeadGroupAddress address(int port, int rank, int world) {
  return {"127.0.0.1", port, rank, world, std::chrono::seconds(300)};
}

// A rank process serving until rank 0 says stop: reading its row files
// where `access` opens them, else sent its rows.
pid_t fork_rank(int port, const RowFileAccess& access) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  try {
    set_compute_threads(1);
    TrainerRanks::serve_rank(address(port, 1, 2), [](const std::string&) {}, access);
    _exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank 1: %s\n", e.what());
    _exit(1);
  }
}

struct Arm {
  const char* name;
  TrainerRanks* ranks;
  Crosscoder cc;
  std::vector<double> step_ms;
};

int run(int argc, char** argv) {
  auto arg = [&](int i, int64_t fallback) { return argc > i ? std::atoll(argv[i]) : fallback; };
  const int64_t T = arg(1, 16), N = arg(2, 16384), d = arg(3, 256), F = arg(4, 256), B = arg(5, 256);
  const int64_t steps = arg(6, 20), repeats = arg(7, 5);
  // The ranks first, before this process starts RocksDB's or torch's threads.
  const int reading_port = bench::free_loopback_port();
  int sent_port = bench::free_loopback_port();
  while (sent_port == reading_port) sent_port = bench::free_loopback_port();
  const pid_t reading = fork_rank(reading_port, rank_row_files(""));
  const pid_t sent = fork_rank(sent_port, {});
  set_compute_threads(1);  // one core per rank, two on this machine

  bench::TempDir dir("", "cw-bench-stream-ranks");
  auto store = Store::open(dir.path() + "/store", {false, false});
  const bench::RandomSnapshots stored = bench::store_random_snapshots(*store, T, N, d);
  auto source = std::make_shared<StoredRows>(*store);
  for (const auto& meta : stored.metas) source->append(meta);  // writes the row files
  std::printf("%lld snapshots of %lld x %lld floats (%.0f MiB each) in row files, batch %lld, %lld features, "
              "%lld steps a budget, 2 ranks on loopback\n",
              (long long)T, (long long)N, (long long)d, N * d * 4 / 1048576.0, (long long)B, (long long)F,
              (long long)steps);

  CrosscoderOptions options;
  options.d_model = d;
  options.n_features = F;
  options.batch_size = B;
  options.seed = 3;
  auto alone = std::make_unique<TrainerRanks>(address(0, 0, 1));
  auto reads = std::make_unique<TrainerRanks>(address(reading_port, 0, 2));
  auto is_sent = std::make_unique<TrainerRanks>(address(sent_port, 0, 2));
  std::vector<Arm> arms;
  arms.push_back({"one process", alone.get(), Crosscoder(options), {}});
  arms.push_back({"2 ranks, rank 1 reads its row files", reads.get(), Crosscoder(options), {}});
  arms.push_back({"2 ranks, rank 0 sends rank 1 its rows", is_sent.get(), Crosscoder(options), {}});
  for (auto& arm : arms) {
    arm.cc.stream_from(source);
    for (const auto& meta : stored.metas) arm.cc.add_streamed_snapshot(meta.key.step);
    arm.ranks->train_budget(arm.cc, 1, nullptr);  // the group forms; not timed
  }
  for (int64_t r = 0; r < repeats; ++r)
    for (auto& arm : arms) {
      const TrainReport report = arm.ranks->train_budget(arm.cc, steps, nullptr);
      arm.step_ms.push_back(1000 * report.seconds / double(report.steps));
    }
  const std::string reference = arms[0].cc.serialize();
  bool same = true;
  for (auto& arm : arms) {
    const bool alike = arm.cc.serialize() == reference;
    same = same && alike;
    std::printf("%-40s %8.1f ms a step (median of %lld budgets; p90 %.1f), x%.2f one process; rows sent %.1f MiB; "
                "%s\n",
                arm.name, bench::median(arm.step_ms), (long long)repeats, bench::percentile(arm.step_ms, 0.9),
                bench::median(arm.step_ms) / bench::median(arms[0].step_ms), arm.ranks->row_bytes_sent() / 1048576.0,
                alike ? "the same crosscoder" : "ANOTHER CROSSCODER");
  }
  arms.clear();
  reads.reset();  // says stop to its rank
  is_sent.reset();
  for (pid_t pid : {reading, sent}) waitpid(pid, nullptr, 0);
  return same ? 0 : 1;
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) { return cw::run(argc, argv); }
