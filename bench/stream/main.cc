// cw_bench_stream: what streamed training reads cost (docs/SCALE_OUT.md
// "Streamed activations"). (1) One batch's rows of one snapshot, read from
// RocksDB (a stored array is one value: read whole) or from its row file
// (store/row_files.h: pread); (2) a crosscoder's training step with the
// activations in memory or streamed from row files (the same steps, bit
// for bit), medians of several updates.
// Usage: cw_bench_stream [snapshots tokens d_model features batch steps repeats]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "analysis/stored_rows.h"
#include "bench/common/sample_stats.h"
#include "bench/common/temp_dir.h"
#include "bench/stream/random_snapshots.h"
#include "crosscoder/crosscoder.h"
#include "store/row_files.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int run(int argc, char** argv) {
  auto arg = [&](int i, int64_t fallback) { return argc > i ? std::atoll(argv[i]) : fallback; };
  const int64_t T = arg(1, 8), N = arg(2, 16384), d = arg(3, 1024), F = arg(4, 1024), B = arg(5, 256);
  const int64_t steps = arg(6, 20), repeats = arg(7, 5);
  bench::TempDir dir("", "cw-bench-stream");
  auto store = Store::open(dir.path() + "/store", {false, false});
  SnapshotTable table(*store);
  bench::RandomSnapshots stored = bench::store_random_snapshots(*store, T, N, d);
  const std::vector<SnapshotMeta>& metas = stored.metas;
  std::vector<std::vector<float>>& data = stored.values;
  std::mt19937 rng(1);
  std::printf("%lld snapshots of %lld x %lld floats (%.0f MiB each), batch %lld, %lld features\n",
              (long long)T, (long long)N, (long long)d, N * d * 4 / 1048576.0, (long long)B, (long long)F);

  // (1) One snapshot's rows of a batch.
  std::vector<double> whole, write, rows;
  std::string bytes;
  for (int64_t r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    table.read(metas[size_t(r % T)].key, &bytes);
    whole.push_back(ms_since(start));
  }
  auto start = Clock::now();
  RowFile file = RowFile::open(*store, metas[0]);
  write.push_back(ms_since(start));
  std::vector<int64_t> idx(static_cast<size_t>(B));
  std::vector<float> out(size_t(B * d));
  std::uniform_int_distribution<int64_t> pick(0, N - 1);
  for (int64_t r = 0; r < 20 * repeats; ++r) {
    for (auto& i : idx) i = pick(rng);
    start = Clock::now();
    file.read_rows(idx.data(), B, out.data());
    rows.push_back(ms_since(start));
  }
  std::printf("one snapshot's %lld batch rows: RocksDB get (whole value) %.2f ms median; row file: written once in "
              "%.1f ms, pread of the rows %.3f ms median (p90 %.3f)\n",
              (long long)B, bench::median(whole), write[0], bench::median(rows), bench::percentile(rows, 0.9));

  // (2) Training steps, in memory and streamed.
  CrosscoderOptions options;
  options.d_model = d;
  options.n_features = F;
  options.batch_size = B;
  options.steps_per_update = steps;
  options.seed = 3;
  Crosscoder memory(options), streamed(options);
  auto source = std::make_shared<StoredRows>(*store);
  streamed.stream_from(source);
  for (int64_t t = 0; t < T; ++t) {
    memory.add_snapshot(metas[size_t(t)].key.step, data[size_t(t)].data(), N);
    source->append(metas[size_t(t)]);
    streamed.add_streamed_snapshot(metas[size_t(t)].key.step);
  }
  data.clear();
  std::vector<double> memory_ms, streamed_ms;
  bool same = true;
  for (int64_t r = 0; r < repeats; ++r) {
    const auto a = memory.train(), b = streamed.train();
    memory_ms.push_back(1000 * a.seconds / double(a.steps));
    streamed_ms.push_back(1000 * b.seconds / double(b.steps));
    same = same && a.last_loss == b.last_loss;
  }
  std::printf("training step (%lld steps per update, %lld updates): in memory %.1f ms median, streamed %.1f ms "
              "median (x%.2f); losses %s\n",
              (long long)steps, (long long)repeats, bench::median(memory_ms), bench::median(streamed_ms),
              bench::median(streamed_ms) / bench::median(memory_ms), same ? "identical" : "DIFFER");
  return same ? 0 : 1;
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) { return cw::run(argc, argv); }
