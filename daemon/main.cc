// conceptwatchd: receives checkpoints' probe activations from training jobs
// and keeps them durably; see README "Usage".
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "daemon/daemon.h"
#include "crosscoder/tensor_heap.h"
#include "daemon/exit_codes.h"
#include "daemon/log_format.h"
#include "store/store_recovery.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop = true; }

// Says why the daemon cannot start and returns its exit code
// (daemon/exit_codes.h). The log may not be set up yet: stderr, which
// systemd's journal takes too.
int start_failure(const std::string& what, int code) {
  std::cerr << "conceptwatchd: " << what << "\n";
  if (code != cw::kExitFailure)
    std::cerr << "conceptwatchd: exiting with " << code
              << ": a restart cannot fix this (the systemd unit does not restart on it; docs/INSTALL.md \"Exit "
                 "codes\")\n";
  return code;
}

int store_exit_code(cw::StoreProblem problem) {
  switch (problem) {
    case cw::StoreProblem::kCorrupt:
    case cw::StoreProblem::kNewerFormat: return cw::kExitStoreCorrupt;
    case cw::StoreProblem::kLocked: return cw::kExitStoreLocked;
    case cw::StoreProblem::kOther: break;
  }
  return cw::kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  cw::keep_freed_tensor_memory();  // the crosscoder trains in this process (crosscoder/tensor_heap.h)
  cw::DaemonConfig config = cw::default_daemon_config();
  CLI::App app{"conceptwatchd: watch a language model learn while it is pre-trained"};
  std::string config_path;
  app.add_option("--config", config_path, "TOML configuration file (see deploy/conceptwatchd.toml)");
  // Flags override the file: parse once for --config, then again.
  std::string data_dir, ingest, query, log_level, log_format;
  app.add_option("--data-dir", data_dir, "where the RocksDB store lives (default " + config.data_dir + ")");
  app.add_option("--ingest", ingest, "ZeroMQ endpoint for hooks (default " + config.ingest_endpoint + ")");
  app.add_option("--query", query, "ZeroMQ endpoint for the CLI (default " + config.query_endpoint + ")");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error (the last one given wins)")->take_last();
  app.add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  std::string device;
  app.add_option("--device", device,
                 "where the crosscoder trains: cpu (default) or cuda[:N] (needs a CUDA build of LibTorch and a GPU; "
                 "same as [crosscoder] device)");
  std::string priority;
  app.add_option("--crosscoder-priority", priority,
                 "scheduling of the crosscoder's training thread: idle (default: only CPU nothing else wants), "
                 "low (nice 19) or normal; same as [crosscoder] priority");
  std::string secret_key, ingest_keys, query_keys;
  app.add_option("--secret-key", secret_key,
                 "the daemon's CURVE secret key file (conceptwatch keygen); turns on CURVE on both sockets "
                 "(same as [auth] secret_key)");
  app.add_option("--ingest-keys", ingest_keys, "directory of client public keys (.pub) allowed to publish ([auth] ingest_keys)");
  app.add_option("--query-keys", query_keys, "directory of client public keys (.pub) allowed to query, read-only ([auth] query_keys)");
  bool allow_unauthenticated = false;
  app.add_flag("--allow-unauthenticated", allow_unauthenticated,
               "listen beyond loopback without CURVE: only on a private network where everyone who can connect is "
               "trusted ([auth] allow_unauthenticated = true)");
  std::string http;
  app.add_option("--http", http,
                 "host:port for /metrics, /healthz and /readyz, e.g. 127.0.0.1:7783; \"off\" for none (default: off, "
                 "or [http] listen)");
  int64_t trainer_ranks = -1;
  app.add_option("--trainer-ranks", trainer_ranks,
                 "spread every update's training steps over this many processes, this daemon being one; it starts "
                 "the others (conceptwatch-trainer) unless [analysis] spawn_trainer_ranks = false. 1: alone, with "
                 "the ranks' arithmetic; 0: alone (the default; same as [analysis] trainer_ranks; docs/SCALE_OUT.md)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));  // CLI::NonNegativeNumber would print DBL_MAX's 309 digits
  bool store_only = false;
  app.add_flag("--store-only", store_only, "store snapshots, train no crosscoder (same as [crosscoder] enabled = false)");
  bool read_only = false;
  auto* read_only_flag = app.add_flag(
      "--read-only", read_only,
      "serve queries from the store without writing it: no data taken from hooks (they keep it queued), no "
      "crosscoder trains; for a store that needs repair, or a copy of one (same as [daemon] read_only = true; "
      "--read-only=false overrides that)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (!config_path.empty()) cw::load_daemon_config(config_path, &config);
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (!ingest.empty()) config.ingest_endpoint = ingest;
    if (!query.empty()) config.query_endpoint = query;
    if (!log_level.empty()) config.log_level = log_level;
    if (!log_format.empty()) config.log_format = log_format;
    if (!device.empty()) config.analysis.crosscoder.device = device;
    if (!priority.empty()) config.analysis.priority = cw::parse_trainer_priority(priority);
    if (trainer_ranks >= 0) config.analysis.trainer_ranks = trainer_ranks;
    if (read_only_flag->count() != 0) config.read_only = read_only;
    if (store_only || config.read_only) config.analysis.enabled = false;
    if (!http.empty()) config.http_listen = http == "off" ? "" : http;
    if (!secret_key.empty()) config.auth.secret_key = secret_key;
    if (!ingest_keys.empty()) config.auth.ingest_keys = ingest_keys;
    if (!query_keys.empty()) config.auth.query_keys = query_keys;
    if (allow_unauthenticated) config.auth.allow_unauthenticated = true;
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    cw::set_log_format(config.log_format);
  } catch (const std::exception& e) {
    return start_failure(e.what(), cw::kExitConfig);
  }

  try {
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    std::signal(SIGPIPE, SIG_IGN);
    cw::Daemon daemon(config);
    daemon.serve(g_stop);
  } catch (const cw::ConfigError& e) {
    return start_failure(e.what(), cw::kExitConfig);
  } catch (const cw::StoreOpenError& e) {
    // The other way forward, until a repair: serve what can still be read.
    const bool corrupt = e.problem() == cw::StoreProblem::kCorrupt && !config.read_only;
    return start_failure(std::string(e.what()) +
                             (corrupt ? "; or, meanwhile, start conceptwatchd with --read-only to serve what can still "
                                        "be read (queries only, no data taken)"
                                      : ""),
                         store_exit_code(e.problem()));
  } catch (const std::exception& e) {
    return start_failure(e.what(), cw::kExitFailure);
  }
  return cw::kExitOk;
}
