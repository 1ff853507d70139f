// conceptwatchd's configuration: built-in defaults, then a TOML file, then
// command-line flags (see deploy/conceptwatchd.toml for every key).
#ifndef CW_DAEMON_DAEMON_CONFIG_H_
#define CW_DAEMON_DAEMON_CONFIG_H_

#include <cstdint>
#include <string>

#include "alerts/alerts_config.h"
#include "analysis/analysis_config.h"
#include "auth/auth_config.h"
#include "ingest/ingest.h"

namespace cw {

struct DaemonConfig {
  std::string data_dir;
  std::string ingest_endpoint;
  std::string query_endpoint;
  IngestLimits limits;
  RunQuotas quotas;                  // [quotas]: runs, taps per run, bytes per run (0 = no limit)
  // [retention] max_idle_hours: runs that received nothing for this long
  // are deleted, checked every minute (0 = keep every run; docs/SECURITY.md).
  double retention_max_idle_hours = 0;
  uint64_t partial_idle_ms = 60000;  // forget half-received snapshots after this
  std::string log_level = "info";
  std::string log_format = "text";   // or "json"
  AnalysisConfig analysis;           // [crosscoder], [analysis], [emergence], [transitions]
  AlertsConfig alerts;               // [alerts], [[alerts.sinks]]
  AuthConfig auth;                   // [auth]: CURVE keys, who may publish and query
  // [http] listen: host:port of /metrics, /healthz, /readyz; "" = no HTTP
  // port (the built-in default; deploy/conceptwatchd.toml turns it on at
  // 127.0.0.1:7783). Beyond loopback only with auth.allow_unauthenticated.
  std::string http_listen;
  // [daemon] read_only, --read-only: serve queries from the store (opened
  // read-only, no lock), take no data (hooks are told why and keep it
  // queued), train nothing.
  bool read_only = false;
};

DaemonConfig default_daemon_config();
// Overlays the keys present in a TOML file; throws std::runtime_error with
// the file, line and key on a bad file.
void load_daemon_config(const std::string& path, DaemonConfig* config);

}  // namespace cw

#endif  // CW_DAEMON_DAEMON_CONFIG_H_
