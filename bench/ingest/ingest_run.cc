#include "bench/ingest/ingest_run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "auth/curve_keys.h"
#include "bench/common/daemon_process.h"
#include "bench/common/temp_dir.h"
#include "bench/ingest/copy_baseline.h"
#include "hooks/publisher.h"
#include "store/snapshot_table.h"
#include "store/store.h"

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

uint64_t stored_snapshots(const std::string& data_dir, const std::string& run) {
  StoreOptions options;
  options.read_only = true;
  auto store = Store::open(data_dir, options);
  return SnapshotTable(*store).list(run).size();
}

// A server key and one job key allowed to publish, under `dir`; returns the
// daemon's flags for them and sets the job's key files in `options`.
std::vector<std::string> make_curve_keys(const std::string& dir, PublisherOptions* options) {
  std::filesystem::create_directories(dir + "/ingest.d");
  std::filesystem::create_directories(dir + "/query.d");
  write_key_pair(generate_key_pair(), dir + "/server");
  write_key_pair(generate_key_pair(), dir + "/ingest.d/job");
  options->keys = {dir + "/server.pub", dir + "/ingest.d/job.secret"};
  return {"--secret-key", dir + "/server.secret", "--ingest-keys", dir + "/ingest.d", "--query-keys", dir + "/query.d"};
}

}  // namespace

IngestRunResult run_ingest(const BenchData& data, uint32_t count, uint32_t paced_count,
                           const std::string& daemon_path, const std::string& work_dir, bool curve) {
  TempDir dir(work_dir, "cw-bench-ingest");
  const std::string data_dir = dir.path() + "/data";
  PublisherOptions options;
  // Ingest alone: the crosscoder has its own benchmark, and training it on
  // 64 MiB snapshots would compete for these 2 cores.
  std::vector<std::string> args = {"--store-only"};
  if (curve) {
    const auto key_args = make_curve_keys(dir.path() + "/keys", &options);
    args.insert(args.end(), key_args.begin(), key_args.end());
  }
  DaemonProcess daemon(daemon_path, data_dir, dir.path() + "/conceptwatchd.log", args);

  options.endpoint = daemon.ingest_endpoint();
  // The default 1 GiB queue holds 16 snapshots of 64 MiB; never drop here.
  options.max_queue_bytes = std::max<uint64_t>(options.max_queue_bytes, uint64_t(count) * data.bytes());
  IngestRunResult result;
  {
    Publisher publisher(data.run, options);
    // The Hello round trip is set-up, not ingest: wait for it before timing.
    daemon.wait_for([&] { return publisher.stats().hello_acked; }, "answer the Hello");

    const auto start = Clock::now();
    for (uint32_t i = 0; i < count; ++i) {
      const auto before = Clock::now();
      if (!publisher.publish(data.meta(1000 + i), data.array.data())) throw std::runtime_error("publish() dropped a snapshot");
      result.publish_seconds.push_back(seconds_between(before, Clock::now()));
    }
    result.publish_phase_seconds = seconds_between(start, Clock::now());
    bool flushed = publisher.flush(std::chrono::minutes(5));
    result.seconds = seconds_between(start, Clock::now());

    CopyBaseline copies(data.array);
    for (uint32_t i = 0; flushed && i < paced_count; ++i) {
      result.warm_copy_seconds.push_back(copies.warm_copy_seconds());
      result.fresh_copy_seconds.push_back(copies.fresh_copy_seconds());
      result.huge_page_copy_seconds.push_back(copies.huge_page_copy_seconds());
      const auto before = Clock::now();
      if (!publisher.publish(data.meta(1000 + count + i), data.array.data())) {
        throw std::runtime_error("publish() dropped a snapshot");
      }
      result.paced_publish_seconds.push_back(seconds_between(before, Clock::now()));
      flushed = publisher.flush(std::chrono::minutes(1));
    }

    const PublisherStats stats = publisher.stats();
    if (!flushed || stats.acked != count + paced_count || stats.dropped || stats.rejected || stats.duplicates) {
      daemon.check_alive();
      throw std::runtime_error("ingest did not complete: " + std::to_string(stats.acked) + " of " +
                               std::to_string(count + paced_count) + " acknowledged, " +
                               std::to_string(stats.dropped) + " dropped, " + std::to_string(stats.rejected) +
                               " rejected, " + std::to_string(stats.resent) + " re-sent; last error: " +
                               stats.last_error);
    }
  }
  daemon.check_alive();
  if (const int status = daemon.stop(); status != 0) {
    throw std::runtime_error("conceptwatchd exited with status " + std::to_string(status) + " when stopped");
  }
  if (const uint64_t stored = stored_snapshots(data_dir, data.run.run); stored != count + paced_count) {
    throw std::runtime_error("the daemon acknowledged " + std::to_string(count + paced_count) +
                             " snapshots but its store holds " + std::to_string(stored));
  }
  return result;
}

}  // namespace cw::bench
