#include "observe/daemon_metrics.h"

#include <cmath>

#include "observe/prometheus_text.h"

namespace cw {
namespace {

using json = nlohmann::json;

// A number from the status, NaN where it is absent or not a number (a
// crosscoder before its first update has no explained variance yet).
double number(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return NAN;
  return object[key].get<double>();
}

void daemon_families(PrometheusText& out, const json& daemon) {
  struct Plain {
    const char* name;
    MetricType type;
    const char* key;
    const char* help;
  };
  // `status`'s daemon section, key by key.
  static const Plain kPlain[] = {
      {"conceptwatch_start_time_seconds", MetricType::kGauge, nullptr,
       "When this conceptwatchd started, seconds since the Unix epoch."},
      {"conceptwatch_ingest_frames_total", MetricType::kCounter, "frames",
       "Frames received on the ingest socket since start (status: daemon.frames)."},
      {"conceptwatch_ingest_bytes_total", MetricType::kCounter, "bytes_received",
       "Bytes received on the ingest socket since start (status: daemon.bytes_received)."},
      {"conceptwatch_ingest_snapshots_total", MetricType::kCounter, "snapshots_stored",
       "Arrays stored durably since start, duplicates not counted (status: daemon.snapshots_stored)."},
      {"conceptwatch_ingest_duplicates_total", MetricType::kCounter, "duplicates",
       "Re-sent arrays already stored with the same checksum (status: daemon.duplicates)."},
      {"conceptwatch_ingest_errors_total", MetricType::kCounter, "errors",
       "Ingest messages refused with an error reply (status: daemon.errors)."},
      {"conceptwatch_ingest_partial_snapshots", MetricType::kGauge, "pending_snapshots",
       "Arrays being received: begun, not yet complete (status: daemon.pending_snapshots)."},
      {"conceptwatch_ingest_partial_bytes", MetricType::kGauge, "pending_bytes",
       "Bytes held for arrays being received (status: daemon.pending_bytes)."},
  };
  for (const Plain& p : kPlain) {
    out.family(p.name, p.type, p.help);
    if (!daemon.value("up", false)) continue;
    const double value = p.key ? number(daemon, p.key) : number(daemon, "started_unix_ms") / 1000.0;
    if (!std::isnan(value)) out.sample({}, value);
  }
  out.family("conceptwatch_analysis_enabled", MetricType::kGauge,
             "1 when crosscoders train in this daemon, 0 when it stores snapshots only (status: daemon.analysis).");
  if (daemon.contains("analysis")) out.sample({}, daemon["analysis"].get<bool>() ? 1 : 0);
  const json store = daemon.value("store", json::object());
  out.family("conceptwatch_store_writable", MetricType::kGauge,
             "1 while the store takes writes; 0 while it refuses them (a full disk, an I/O error) and the daemon "
             "refuses new data (status: daemon.store.writable, daemon.store.error).");
  if (store.contains("writable")) out.sample({}, store["writable"].get<bool>() ? 1 : 0);
  out.family("conceptwatch_store_write_failures_total", MetricType::kCounter,
             "Store writes refused since start (status: daemon.store.failed_writes).");
  if (store.contains("failed_writes")) out.sample({}, number(store, "failed_writes"));
}

void store_families(PrometheusText& out, const json& status) {
  out.family("conceptwatch_store_disk_bytes", MetricType::kGauge,
             "Bytes the store's directory takes on disk (status: disk_bytes).");
  if (status.contains("disk_bytes")) out.sample({}, number(status, "disk_bytes"));
  out.family("conceptwatch_store_snapshots", MetricType::kGauge,
             "Probe-activation snapshots stored, per run, all taps (status: runs[].snapshots).");
  for (const auto& run : status.value("runs", json::array()))
    out.sample({{"run", run.value("run", "")}}, number(run, "snapshots"));
}

// Every family of the crosscoder workers (status: daemon.crosscoders[]),
// one sample per (run, tap).
void crosscoder_families(PrometheusText& out, const json& crosscoders) {
  const auto labels = [](const json& cc) -> MetricLabels {
    return {{"run", cc.value("run", "")}, {"tap", cc.value("tap", "")}};
  };
  struct Gauge {
    const char* name;
    const char* section;  // nullptr: the worker's own object
    const char* key;
    const char* help;
  };
  static const Gauge kGauges[] = {
      {"conceptwatch_crosscoder_snapshots", nullptr, "snapshots",
       "Snapshots (heads) in the tap's crosscoder (status: crosscoders[].snapshots)."},
      {"conceptwatch_crosscoder_backlog_snapshots", nullptr, "backlog",
       "Stored snapshots the tap's crosscoder has not taken in yet, as counted when its update looked "
       "(status: crosscoders[].backlog)."},
      {"conceptwatch_crosscoder_explained_variance", "latest", "explained_variance",
       "Explained variance of the crosscoder on the newest snapshot after the last update (status: "
       "crosscoders[].latest.explained_variance)."},
      {"conceptwatch_crosscoder_held_out_explained_variance", "latest", "held_out_explained_variance",
       "Explained variance on the newest snapshot's held-out probe rows, which the crosscoder never trains on; "
       "far below conceptwatch_crosscoder_explained_variance it memorises the probe set (status: "
       "crosscoders[].latest.held_out_explained_variance; absent when none are held out)."},
      {"conceptwatch_crosscoder_held_out_explained_variance_se", "latest", "held_out_explained_variance_se",
       "Standard error of conceptwatch_crosscoder_held_out_explained_variance, from the spread of the held-out "
       "rows' errors (status: crosscoders[].latest.held_out_explained_variance_se)."},
      {"conceptwatch_crosscoder_l0", "latest", "l0",
       "Mean number of active features per token on the newest snapshot (status: crosscoders[].latest.l0)."},
      {"conceptwatch_crosscoder_dead_fraction", "latest", "dead_fraction",
       "Share of features that never fire on the probe set (status: crosscoders[].latest.dead_fraction)."},
      {"conceptwatch_crosscoder_dense_fraction", "latest", "dense_fraction",
       "Share of features that fire on most probe tokens (status: crosscoders[].latest.dense_fraction)."},
      {"conceptwatch_crosscoder_refine_steps_left", nullptr, "refine_steps_left",
       "Steps the idle tap's crosscoder still has to refine on the snapshots it holds ([crosscoder] "
       "refine_steps; status: crosscoders[].refine_steps_left)."},
      {"conceptwatch_crosscoder_train_loss", "last_update", "loss",
       "The crosscoder's training loss at the end of its last update (status: crosscoders[].last_update.loss)."},
  };
  for (const Gauge& g : kGauges) {
    out.family(g.name, MetricType::kGauge, g.help);
    for (const auto& cc : crosscoders) {
      const json& from = g.section ? cc.value(g.section, json::object()) : cc;
      const double value = number(from, g.key);
      if (!std::isnan(value)) out.sample(labels(cc), value);
    }
  }
  out.family("conceptwatch_crosscoder_state", MetricType::kGauge,
             "1 for the state the tap's crosscoder worker is in (status: crosscoders[].state): starting, queued, "
             "waiting for memory, loading, training, refining, idle, over memory cap, error.");
  for (const auto& cc : crosscoders) {
    MetricLabels with_state = labels(cc);
    with_state.emplace_back("state", cc.value("state", ""));
    out.sample(with_state, 1);
  }
  out.family("conceptwatch_crosscoder_last_update_phase_seconds", MetricType::kGauge,
             "Wall seconds of each phase of the tap's last update: arrivals (adding and measuring the new "
             "snapshots, training between them), training (merging, recruitment, the training budget), analysis, "
             "attribution, save (status: crosscoders[].last_update.phase_seconds).");
  for (const auto& cc : crosscoders) {
    const json& phases = cc.value("last_update", json::object()).value("phase_seconds", json::object());
    for (const auto& [phase, seconds] : phases.items()) {
      if (!seconds.is_number()) continue;
      MetricLabels with_phase = labels(cc);
      with_phase.emplace_back("phase", phase);
      out.sample(with_phase, seconds.get<double>());
    }
  }
  out.family("conceptwatch_crosscoder_update_seconds", MetricType::kHistogram,
             "Wall time of each crosscoder update since start: adding the new snapshots, training, analysis and "
             "the store write (status: crosscoders[].update_seconds).");
  for (const auto& cc : crosscoders) {
    if (!cc.contains("update_seconds")) continue;
    const json& h = cc["update_seconds"];
    std::vector<double> bounds;
    for (const auto& le : h["le"])
      if (le.is_number()) bounds.push_back(le.get<double>());
    out.histogram(labels(cc), bounds, h["cumulative"].get<std::vector<uint64_t>>(), h["sum"].get<double>(),
                  h["count"].get<uint64_t>());
  }
}

// The trainers every tap shares (status: daemon.trainers; absent under
// --store-only and without the crosscoder).
void trainer_families(PrometheusText& out, const json& trainers) {
  struct Gauge {
    const char* name;
    const char* key;
    const char* help;
  };
  const json memory = trainers.value("memory", json::object());
  static const Gauge kPool[] = {
      {"conceptwatch_trainer_threads", "workers",
       "Trainer threads ([analysis] workers; status: daemon.trainers.workers)."},
      {"conceptwatch_trainer_busy_threads", "busy", "Trainer threads in a tap's turn (status: daemon.trainers.busy)."},
      {"conceptwatch_trainer_queued_taps", "queued",
       "Taps waiting for a trainer thread (status: daemon.trainers.queued)."},
  };
  static const Gauge kMemory[] = {
      {"conceptwatch_trainer_memory_cap_bytes", "cap_bytes",
       "What the trainers may hold at once ([analysis] memory_cap_bytes; status: daemon.trainers.memory.cap_bytes)."},
      {"conceptwatch_trainer_memory_reserved_bytes", "reserved_bytes",
       "What the running turns have reserved (status: daemon.trainers.memory.reserved_bytes)."},
  };
  for (const Gauge& g : kPool) {
    out.family(g.name, MetricType::kGauge, g.help);
    if (const double value = number(trainers, g.key); !std::isnan(value)) out.sample({}, value);
  }
  for (const Gauge& g : kMemory) {
    out.family(g.name, MetricType::kGauge, g.help);
    if (const double value = number(memory, g.key); !std::isnan(value)) out.sample({}, value);
  }
}

void alert_families(PrometheusText& out, const json& alerts) {
  out.family("conceptwatch_alerts_firing", MetricType::kGauge,
             "Alerts firing now, by alert name, run and tap (status: alerts.firing_by; their sum is alerts.firing).");
  for (const auto& group : alerts.value("firing_by", json::array()))
    out.sample({{"alertname", group.value("alertname", "")}, {"run", group.value("run", "")}, {"tap", group.value("tap", "")}},
               number(group, "count"));
  struct Counter {
    const char* name;
    MetricType type;
    const char* key;
    const char* help;
  };
  static const Counter kSinks[] = {
      {"conceptwatch_alert_notifications_delivered_total", MetricType::kCounter, "delivered",
       "Notifications a sink delivered (status: alerts.sinks[].delivered)."},
      {"conceptwatch_alert_notifications_dropped_total", MetricType::kCounter, "dropped",
       "Notifications a sink gave up on (status: alerts.sinks[].dropped)."},
      {"conceptwatch_alert_notifications_queued", MetricType::kGauge, "queued",
       "Notifications waiting for a sink (status: alerts.sinks[].queued)."},
  };
  for (const Counter& c : kSinks) {
    out.family(c.name, c.type, c.help);
    for (const auto& sink : alerts.value("sinks", json::array()))
      out.sample({{"sink", sink.value("sink", "")}}, number(sink, c.key));
  }
}

}  // namespace

std::string daemon_metrics_text(const json& status) {
  PrometheusText out;
  const json daemon = status.value("daemon", json::object());
  daemon_families(out, daemon);
  store_families(out, status);
  crosscoder_families(out, daemon.value("crosscoders", json::array()));
  trainer_families(out, daemon.value("trainers", json::object()));
  alert_families(out, daemon.value("alerts", json::object()));
  return out.text();
}

}  // namespace cw
