// cw_bench_status: `status` against a daemon holding --runs runs of --taps
// taps each, every tap trained (issue 11: 1,000 x 4 trained taps made the
// per-tap status 2.7 MB and 176 ms). Times, interleaved so that machine
// load hits every row alike: the default summary, one run's taps
// ({"run"}), the full per-tap listing ({"taps": true}, the old default)
// and the /metrics page rendered from it. The times are the query client's
// round trip, parsing the reply included, as the CLI sees it (or the HTTP
// GET's).
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/sample_stats.h"
#include "tests/support/daemon_process.h"
#include "tests/support/many_runs.h"
#include "tests/support/temp_dir.h"

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string label;
  // Asks once; returns the reply's size in bytes when `measure` (a JSON
  // reply is written out again for that: not in the timed calls).
  std::function<std::size_t(bool measure)> ask;
  std::vector<double> ms;
  std::size_t bytes = 0;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Until the summary counts every tap idle with no backlog.
void wait_until_trained(const testing::DaemonProcess& daemon, uint64_t taps, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  nlohmann::json summary;
  while (Clock::now() < deadline) {
    summary = daemon.query("status", nlohmann::json::object(), std::chrono::seconds(30))["daemon"]["crosscoder_summary"];
    if (summary.value("taps", uint64_t(0)) == taps && summary.value("backlog", uint64_t(0)) == 0 &&
        summary["by_state"].value("idle", uint64_t(0)) == taps)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  throw std::runtime_error("not every tap trained within the timeout: " + summary.dump());
}

}  // namespace
}  // namespace cw::bench

int main(int argc, char** argv) {
  using namespace cw;
  using namespace cw::bench;
  int runs = 1000, taps = 4, repeats = 21, workers = 2, timeout_s = 600;
  CLI::App app{"cw_bench_status: the summary status vs the per-tap listing, every tap trained"};
  app.add_option("--runs", runs, "runs")->capture_default_str();
  app.add_option("--taps", taps, "taps per run")->capture_default_str();
  app.add_option("--repeats", repeats, "queries of each kind")->capture_default_str();
  app.add_option("--workers", workers, "[analysis] workers")->capture_default_str();
  app.add_option("--timeout", timeout_s, "seconds to wait for every tap to train")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    testing::TmpdirOnTmpfs tmpfs;  // the store on tmpfs: the thousands of synced writes are not measured
    testing::TempDir dir;
    const std::string config = dir.sub("bench.toml");
    std::ofstream(config) << "[crosscoder]\nn_features = 8\nbatch_size = 16\nsteps_per_update = 2\nthreads = 1\n"
                             "[analysis]\nworkers = " << workers << "\n";
    const int port = testing::free_port();
    testing::DaemonProcess daemon({"--config", config, "--crosscoder-priority", "normal", "--http",
                                   "127.0.0.1:" + std::to_string(port)});
    daemon.start();
    std::vector<std::string> tap_names;
    for (int t = 0; t < taps; ++t) tap_names.push_back("tap" + std::to_string(t));
    auto start = Clock::now();
    testing::publish_many_runs(daemon.ingest_endpoint(), runs, tap_names);
    std::printf("%d runs x %d taps stored in %.1f s; ", runs, taps, seconds_since(start));
    start = Clock::now();
    wait_until_trained(daemon, uint64_t(runs) * taps, std::chrono::seconds(timeout_s));
    std::printf("all trained %.1f s later\n", seconds_since(start));

    const auto query = [&](const nlohmann::json& params, bool measure) {
      const nlohmann::json reply = daemon.query("status", params, std::chrono::seconds(30));
      return measure ? reply.dump().size() : std::size_t(0);
    };
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(30, 0);
    std::vector<Row> rows = {
        {"`status` (summary, the default)", [&](bool m) { return query(nlohmann::json::object(), m); }, {}},
        {"`status --run run7` (one run's taps)", [&](bool m) { return query({{"run", "run7"}}, m); }, {}},
        {"`status --taps` (every tap: the old default)", [&](bool m) { return query({{"taps", true}}, m); }, {}},
        {"GET /metrics (rendered from `status --taps`)", [&](bool) {
           auto response = http.Get("/metrics");
           if (!response || response->status != 200) throw std::runtime_error("GET /metrics failed");
           return response->body.size();
         }, {}}};
    for (auto& row : rows) row.bytes = row.ask(true);  // warms up
    for (int i = 0; i < repeats; ++i) {
      for (auto& row : rows) {
        const auto before = Clock::now();
        row.ask(false);
        row.ms.push_back(seconds_since(before) * 1000);
      }
    }
    std::printf("| request (%d runs x %d trained taps, %d each, interleaved) | reply | p50 ms | p90 ms |\n"
                "|---|---|---|---|\n", runs, taps, repeats);
    for (const auto& row : rows)
      std::printf("| %s | %.1f KiB | %.1f | %.1f |\n", row.label.c_str(), row.bytes / 1024.0, median(row.ms),
                  percentile(row.ms, 0.9));
    if (daemon.terminate() != 0) throw std::runtime_error("conceptwatchd did not stop cleanly:\n" + daemon.log());
  } catch (const std::exception& e) {
    std::cerr << "cw_bench_status: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
