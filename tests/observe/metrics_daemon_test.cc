// /metrics, /healthz and /readyz through the real conceptwatchd: a few
// planted snapshots streamed in, then every family read by the strict
// parser and every value compared with `conceptwatch --json status` (the
// CLI process). And the HTTP port's listening policy.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <memory>

#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/observe/prometheus_text_parser.h"
#include "tests/support/raw_ingest_client.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::ParsedFamily;
using Families = std::map<std::string, ParsedFamily>;

// /metrics renders the full listing: every run and tap (query/status_request.h).
nlohmann::json cli_status(const DaemonProcess& daemon) {
  return nlohmann::json::parse(testing::cli_output(daemon, "--json status --taps"));
}

std::string get(int port, const std::string& path, int* status) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto response = client.Get(path.c_str());
  if (!response) throw std::runtime_error("GET " + path + " failed: " + httplib::to_string(response.error()));
  *status = response->status;
  return response->body;
}

Families scrape(int port) {
  int status = 0;
  const std::string body = get(port, "/metrics", &status);
  EXPECT_EQ(status, 200) << body;
  return testing::parse_prometheus_text(body);
}

// `expected` (from status) equals the value in one of the two scrapes taken
// around it: the disk size may move with RocksDB's background work.
void expect_value(const Families& before, const Families& after, double expected, const std::string& family,
                  const std::map<std::string, std::string>& labels = {}, const std::string& name = "") {
  const double a = testing::sample_value(before, family, labels, name);
  const double b = testing::sample_value(after, family, labels, name);
  EXPECT_TRUE(a == expected || b == expected) << family << " " << nlohmann::json(labels).dump() << " " << name
                                              << ": metrics " << a << " / " << b << ", status " << expected;
}

TEST(DaemonMetrics, EveryFamilyParsesAndMatchesStatus) {
  const int port = testing::free_port();
  testing::TempDir dir;
  // No refinement during the test (an hour's idle time first): status and
  // /metrics are read twice and must hold the same values. The steps granted
  // are set here, so the test does not restate the default
  // (DaemonConfig.RefinementIsReadAndBadValuesAreRefused pins that).
  const std::string config = testing::write_crosscoder_config(
      dir, "n_features = 32\nsteps_per_update = 20\nrefine_steps = 500\nrefine_after_idle_seconds = 3600\n");
  DaemonProcess daemon({"--config", config, "--http", "127.0.0.1:" + std::to_string(port)});
  daemon.start();
  int code = 0;
  EXPECT_EQ(get(port, "/healthz", &code), "ok\n");
  EXPECT_EQ(code, 200);
  get(port, "/readyz", &code);
  EXPECT_EQ(code, 200);

  PlantedOptions options = recovery_fixture();
  options.n_snapshots = 3;
  options.n_tokens = 512;
  testing::stream_planted(daemon, "run \"quoted\"", make_planted_dictionary(options));
  {  // one refused message, so that the error counter is not trivially 0
    testing::RawIngestClient raw(daemon.ingest_endpoint());
    raw.send("not a frame");
    ASSERT_TRUE(raw.receive().has_value());
  }

  const Families before = scrape(port);
  const nlohmann::json status = cli_status(daemon);
  const Families after = scrape(port);
  for (const auto& [name, family] : before) EXPECT_EQ(name.rfind("conceptwatch_", 0), 0u) << name;

  const auto& d = status["daemon"];
  expect_value(before, after, d["started_unix_ms"].get<double>() / 1000, "conceptwatch_start_time_seconds");
  for (const auto& [family, key] : std::map<std::string, std::string>{
           {"conceptwatch_ingest_frames_total", "frames"},
           {"conceptwatch_ingest_bytes_total", "bytes_received"},
           {"conceptwatch_ingest_snapshots_total", "snapshots_stored"},
           {"conceptwatch_ingest_duplicates_total", "duplicates"},
           {"conceptwatch_ingest_errors_total", "errors"},
           {"conceptwatch_ingest_partial_snapshots", "pending_snapshots"},
           {"conceptwatch_ingest_partial_bytes", "pending_bytes"}})
    expect_value(before, after, d[key].get<double>(), family);
  EXPECT_GE(d["errors"].get<int>(), 1);
  EXPECT_EQ(d["snapshots_stored"].get<int>(), 3);
  expect_value(before, after, d["analysis"].get<bool>() ? 1 : 0, "conceptwatch_analysis_enabled");
  expect_value(before, after, d["store"]["writable"].get<bool>() ? 1 : 0, "conceptwatch_store_writable");
  expect_value(before, after, d["store"]["failed_writes"].get<double>(), "conceptwatch_store_write_failures_total");
  expect_value(before, after, status["disk_bytes"].get<double>(), "conceptwatch_store_disk_bytes");
  for (const auto& run : status["runs"])
    expect_value(before, after, run["snapshots"].get<double>(), "conceptwatch_store_snapshots", {{"run", run["run"]}});

  for (const auto& [family, key] : std::map<std::string, std::string>{{"conceptwatch_trainer_threads", "workers"},
                                                                      {"conceptwatch_trainer_busy_threads", "busy"},
                                                                      {"conceptwatch_trainer_queued_taps", "queued"}})
    expect_value(before, after, d["trainers"][key].get<double>(), family);
  expect_value(before, after, d["trainers"]["memory"]["cap_bytes"].get<double>(), "conceptwatch_trainer_memory_cap_bytes");
  expect_value(before, after, d["trainers"]["memory"]["reserved_bytes"].get<double>(),
               "conceptwatch_trainer_memory_reserved_bytes");
  ASSERT_EQ(d["crosscoders"].size(), 1u) << status.dump();
  for (const auto& cc : d["crosscoders"]) {
    const std::map<std::string, std::string> tap = {{"run", cc["run"]}, {"tap", cc["tap"]}};
    expect_value(before, after, cc["snapshots"].get<double>(), "conceptwatch_crosscoder_snapshots", tap);
    expect_value(before, after, cc["backlog"].get<double>(), "conceptwatch_crosscoder_backlog_snapshots", tap);
    for (const char* key : {"explained_variance", "l0", "dead_fraction", "dense_fraction"})
      expect_value(before, after, cc["latest"][key].get<double>(), std::string("conceptwatch_crosscoder_") + key, tap);
    expect_value(before, after, cc["last_update"]["loss"].get<double>(), "conceptwatch_crosscoder_train_loss", tap);
    EXPECT_EQ(cc["refine_steps_left"], 500) << cc.dump();  // granted by the last update, not yet idle long enough
    expect_value(before, after, cc["refine_steps_left"].get<double>(), "conceptwatch_crosscoder_refine_steps_left",
                 tap);
    const auto& phases = cc["last_update"]["phase_seconds"];
    EXPECT_EQ(phases.size(), 5u) << phases.dump();  // arrivals, training, analysis, attribution, save
    for (const auto& [phase, seconds] : phases.items()) {
      auto with_phase = tap;
      with_phase["phase"] = phase;
      EXPECT_GE(seconds.get<double>(), 0) << phase;
      expect_value(before, after, seconds.get<double>(), "conceptwatch_crosscoder_last_update_phase_seconds",
                   with_phase);
    }
    auto with_state = tap;
    with_state["state"] = cc["state"];
    expect_value(before, after, 1, "conceptwatch_crosscoder_state", with_state);
    // One update per snapshot (each waited for): three observations.
    const auto& h = cc["update_seconds"];
    EXPECT_EQ(h["count"].get<int>(), 3) << h.dump();
    const std::string family = "conceptwatch_crosscoder_update_seconds";
    expect_value(before, after, h["count"].get<double>(), family, tap, family + "_count");
    expect_value(before, after, h["sum"].get<double>(), family, tap, family + "_sum");
    for (std::size_t i = 0; i < h["le"].size(); ++i) {
      auto with_le = tap;
      with_le["le"] = h["le"][i].is_string() ? h["le"][i].get<std::string>() : [&] {
        std::ostringstream le;
        le << h["le"][i].get<double>();
        return le.str();
      }();
      expect_value(before, after, h["cumulative"][i].get<double>(), family, with_le, family + "_bucket");
    }
  }
  double firing = 0;
  for (const auto& sample : after.at("conceptwatch_alerts_firing").samples) firing += sample.value;
  EXPECT_EQ(firing, d["alerts"]["firing"].get<double>());
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

TEST(DaemonMetrics, HttpIsOffByDefault) {
  DaemonProcess daemon({"--store-only"});
  daemon.start();
  EXPECT_EQ(daemon.query("status")["daemon"]["http"], "");
  EXPECT_EQ(daemon.terminate(), 0);
}

TEST(DaemonMetrics, BeyondLoopbackOnlyWithTheOptOut) {
  const std::string address = "0.0.0.0:" + std::to_string(testing::free_port());
  DaemonProcess refused({"--store-only", "--http", address});
  try {
    refused.start();
    FAIL() << "a daemon serving HTTP on " << address << " without --allow-unauthenticated started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("refusing to serve HTTP (/metrics) on " + address), std::string::npos)
        << e.what();
  }
  DaemonProcess allowed({"--store-only", "--http", address, "--allow-unauthenticated"});
  allowed.start();
  EXPECT_EQ(allowed.query("status")["daemon"]["http"], address);
  EXPECT_EQ(allowed.terminate(), 0);
}

}  // namespace
}  // namespace cw
