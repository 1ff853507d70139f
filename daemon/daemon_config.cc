#include "daemon/daemon_config.h"

#include <toml++/toml.h>

#include <optional>
#include <map>
#include <set>
#include <stdexcept>
#include <type_traits>

#include "analysis/watchable_series.h"
#include "crosscoder/crosscoder_options.h"
#include "detect/emergence.h"
#include "observe/host_port.h"
#include "schema/defaults.h"
#include "store/store.h"

namespace cw {
namespace {

// The crosscoder options [crosscoder] exposes, under their names in
// crosscoder/crosscoder_options.h (d_model comes from the tap,
// sparsity_lambda is read apart for "auto"); the others keep the defaults
// docs/CROSSCODER.md derives. load_daemon_config checks each is an option.
const std::set<std::string> kConfiguredCrosscoderOptions = {
    "n_features", "steps_per_update", "seconds_per_update", "batch_size", "lr", "initial_threshold", "ste_window",
    "decoder_fusion",
    "recruit_fraction", "recruit_faded", "dead_frequency", "fold_unexplained", "join_handover_cosine",
    "split_returning_cosine", "silence_faded_rows", "rare_feature_evidence", "hold_out_every", "normalisation", "seed", "threads", "device"};

// A TOML number as a double, or nothing: also for an integer no double holds
// exactly, for which toml++'s value<double>() is empty (reading it as if
// it were not threw std::bad_optional_access; found by fuzz/config_fuzzer.cc).
template <typename Node>
std::optional<double> real_number(const Node& node) {
  return node.is_number() ? node.template value<double>() : std::nullopt;
}

// [transitions]: which series the phase-transition detector watches and the
// smallest move of each that counts.
void load_transitions(const toml::table& table, const std::string& path, MonitorOptions* monitor) {
  const auto* section = table["transitions"].as_table();
  if (!section) return;
  auto fail = [&](const std::string& key, const std::string& what) {
    throw std::runtime_error("config " + path + ": [transitions] " + key + " " + what);
  };
  auto names = [&](const char* key, std::vector<std::string>* out) {
    const auto node = (*section)[key];
    if (!node) return;
    const auto* array = node.as_array();
    if (!array) fail(key, "must be an array of series names");
    out->clear();
    for (const auto& item : *array) {
      if (!item.is_string()) fail(key, "must be an array of series names");
      out->push_back(item.value<std::string>().value());
    }
  };
  auto non_negative = [&](const char* key, double* out) {
    const auto node = (*section)[key];
    if (!node) return;
    const auto number = real_number(node);
    if (!number || !(*number >= 0)) fail(key, "must be a non-negative number");
    *out = *number;
  };
  // A table of series = non-negative number, merged over the defaults.
  auto per_series = [&](const char* key, std::map<std::string, double>* out) {
    const auto node = (*section)[key];
    if (!node) return;
    const auto* table = node.as_table();
    if (!table) fail(key, "must be a table of series = number");
    for (const auto& [name, value] : *table) {
      const auto number = real_number(value);
      if (!number || !(*number >= 0))
        fail(std::string(key) + "." + std::string(name.str()), "must be a non-negative number");
      (*out)[std::string(name.str())] = *number;
    }
  };
  names("series", &monitor->series);
  for (const auto& name : monitor->series) {
    const std::set<std::string>& known = watchable_series_names();
    if (!known.count(name)) {
      std::string names;
      for (const auto& known_name : known) names += (names.empty() ? "" : ", ") + known_name;
      fail("series", "has '" + name + "', not a crosscoder series (" + names + "); job scalars go in 'scalars'");
    }
  }
  names("scalars", &monitor->scalar_series);
  names("joining_only", &monitor->joining_only);
  non_negative("loss_min_move", &monitor->loss_min_move);
  non_negative("surprise_ratio_alarm", &monitor->surprise_ratio_alarm);
  double lag = static_cast<double>(monitor->population_lag);
  non_negative("population_lag", &lag);
  monitor->population_lag = static_cast<std::size_t>(lag);
  per_series("spike_above", &monitor->spike_above);
  per_series("spike_over_level", &monitor->spike_over_level);
  per_series("min_move", &monitor->min_move);
  double resolve_after = static_cast<double>(monitor->resolve_after);
  non_negative("resolve_after", &resolve_after);
  monitor->resolve_after = static_cast<std::size_t>(resolve_after);
}

}  // namespace

DaemonConfig default_daemon_config() {
  DaemonConfig config;
  config.data_dir = default_data_dir();
  config.ingest_endpoint = kDefaultIngestEndpoint;
  config.query_endpoint = kDefaultQueryEndpoint;
  // λ sized to the tap's dictionary (crosscoder/sparsity_default.h): the
  // paper's 0.3 starves the 8 × d_model features a tap gets by default.
  config.analysis.crosscoder.sparsity_lambda = kAutoSparsityLambda;
  return config;
}

void load_daemon_config(const std::string& path, DaemonConfig* config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + path + ": " + std::string(e.description()) + " at line " +
                             std::to_string(e.source().begin.line));
  }
  // Refused here, naming the file, rather than when the port is opened.
  auto check_host_port = [&](const std::string& address, const std::string& setting, bool allow_any_port) {
    try {
      split_host_port(address, setting, allow_any_port);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("config " + path + ": " + e.what());
    }
  };
  auto text = [&](const char* section, const char* key, std::string* out) {
    if (auto node = table[section][key]) {
      if (!node.is_string()) throw std::runtime_error("config " + path + ": [" + section + "] " + key + " must be a string");
      *out = node.value<std::string>().value();
    }
  };
  auto number = [&](const char* section, const char* key, auto* out) {
    if (auto node = table[section][key]) {
      if (!node.is_integer() || node.value<int64_t>().value() < 0)
        throw std::runtime_error("config " + path + ": [" + section + "] " + key + " must be a non-negative integer");
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(node.value<int64_t>().value());
    }
  };
  text("daemon", "data_dir", &config->data_dir);
  text("daemon", "ingest_endpoint", &config->ingest_endpoint);
  text("daemon", "query_endpoint", &config->query_endpoint);
  text("daemon", "log_level", &config->log_level);
  text("daemon", "log_format", &config->log_format);
  // A misspelt key here would leave the daemon open: refuse it by name.
  if (const auto* auth = table["auth"].as_table()) {
    for (const auto& [key, value] : *auth) {
      static const std::set<std::string> known = {"secret_key", "ingest_keys", "query_keys", "allow_unauthenticated"};
      if (!known.count(std::string(key.str())))
        throw std::runtime_error("config " + path + ": [auth] has no key '" + std::string(key.str()) +
                                 "' (secret_key, ingest_keys, query_keys, allow_unauthenticated)");
    }
  }
  // [http] listen: "" (off) or host:port; a misspelt key would leave it off unnoticed.
  if (const auto* http = table["http"].as_table()) {
    for (const auto& [key, value] : *http) {
      if (key.str() != "listen")
        throw std::runtime_error("config " + path + ": [http] has no key '" + std::string(key.str()) + "' (listen)");
    }
  }
  text("http", "listen", &config->http_listen);
  if (!config->http_listen.empty()) check_host_port(config->http_listen, "[http] listen", false);
  // A misspelt key would leave its default in place unnoticed (a quota off;
  // split_returning_cosine was in the shipped [crosscoder] and never read).
  auto refuse_unknown_keys = [&](const std::string& section, const std::set<std::string>& keys) {
    if (const auto* found = table[section].as_table()) {
      for (const auto& [key, value] : *found) {
        if (!keys.count(std::string(key.str())))
          throw std::runtime_error("config " + path + ": [" + section + "] has no key '" + std::string(key.str()) +
                                   "' (deploy/conceptwatchd.toml lists them)");
      }
    }
  };
  refuse_unknown_keys("quotas", {"max_runs", "max_taps_per_run", "max_run_bytes"});
  refuse_unknown_keys("retention", {"max_idle_hours"});
  text("auth", "secret_key", &config->auth.secret_key);
  text("auth", "ingest_keys", &config->auth.ingest_keys);
  text("auth", "query_keys", &config->auth.query_keys);
  number("ingest", "max_frame_bytes", &config->limits.max_frame_bytes);
  number("ingest", "max_snapshot_bytes", &config->limits.max_snapshot_bytes);
  if (config->limits.max_snapshot_bytes > Store::kMaxValueBytes)
    throw std::runtime_error("config " + path + ": [ingest] max_snapshot_bytes " +
                             std::to_string(config->limits.max_snapshot_bytes) +
                             " is more than one store value can hold (" + std::to_string(Store::kMaxValueBytes) +
                             " bytes): an array that large would be acknowledged and not stored");
  number("ingest", "max_pending_bytes", &config->limits.max_pending_bytes);
  number("ingest", "max_pending_bytes_per_peer", &config->limits.max_pending_bytes_per_peer);
  number("ingest", "max_pending_arrays", &config->limits.max_pending_arrays);
  number("ingest", "max_pending_arrays_per_peer", &config->limits.max_pending_arrays_per_peer);
  number("ingest", "max_d_model", &config->limits.max_d_model);
  number("ingest", "max_probe_tokens", &config->limits.max_probe_tokens);
  number("ingest", "max_taps", &config->limits.max_taps);
  number("ingest", "max_tasks", &config->limits.max_tasks);
  number("ingest", "max_vocabulary", &config->limits.max_vocabulary);
  number("ingest", "max_scalars", &config->limits.max_scalars);
  number("ingest", "partial_idle_ms", &config->partial_idle_ms);
  number("quotas", "max_runs", &config->quotas.max_runs);
  number("quotas", "max_taps_per_run", &config->quotas.max_taps_per_run);
  number("quotas", "max_run_bytes", &config->quotas.max_run_bytes);

  auto real = [&](const char* section, const char* key, double* out) {
    if (auto node = table[section][key]) {
      const auto number = real_number(node);
      if (!number)
        throw std::runtime_error("config " + path + ": [" + section + "] " + key + " must be a number");
      *out = *number;
    }
  };
  auto flag = [&](const char* section, const char* key, bool* out) {
    if (auto node = table[section][key]) {
      if (!node.is_boolean()) throw std::runtime_error("config " + path + ": [" + section + "] " + key + " must be true or false");
      *out = node.value<bool>().value();
    }
  };
  flag("auth", "allow_unauthenticated", &config->auth.allow_unauthenticated);
  flag("daemon", "read_only", &config->read_only);
  real("retention", "max_idle_hours", &config->retention_max_idle_hours);
  if (!(config->retention_max_idle_hours >= 0))
    throw std::runtime_error("config " + path + ": [retention] max_idle_hours must be 0 (keep every run) or more");
  AnalysisConfig& analysis = config->analysis;
  CrosscoderOptions& cc = analysis.crosscoder;
  flag("crosscoder", "enabled", &analysis.enabled);
  number("crosscoder", "features_per_dim", &analysis.features_per_dim);
  number("crosscoder", "max_features", &analysis.max_features);
  // The crosscoder's own options by their names in
  // crosscoder/crosscoder_options.h, read through its one list of them.
  size_t configured = 0;
  visit_crosscoder_options(cc, [&](const char* key, auto& value, OptionKey) {
    using T = std::remove_reference_t<decltype(value)>;
    if (!kConfiguredCrosscoderOptions.count(key)) return;
    ++configured;
    if constexpr (std::is_same_v<T, std::string>) {
      text("crosscoder", key, &value);
    } else if constexpr (std::is_same_v<T, bool>) {
      flag("crosscoder", key, &value);
    } else if constexpr (std::is_integral_v<T>) {
      number("crosscoder", key, &value);
    } else {
      real("crosscoder", key, &value);
    }
  });
  if (configured != kConfiguredCrosscoderOptions.size())
    throw std::logic_error("config: kConfiguredCrosscoderOptions names an option CrosscoderOptions does not have");
  // "auto" (the default): λ from d_model and n_features when the tap's
  // crosscoder is built (crosscoder/sparsity_default.h).
  if (auto node = table["crosscoder"]["sparsity_lambda"]) {
    if (node.is_string() && node.value<std::string>().value() == "auto") {
      cc.sparsity_lambda = kAutoSparsityLambda;
    } else if (const auto number = real_number(node); number && *number >= 0) {
      cc.sparsity_lambda = *number;
    } else {
      throw std::runtime_error("config " + path + ": [crosscoder] sparsity_lambda must be \"auto\" or a number >= 0");
    }
  }
  try {
    check_option_ranges(cc);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("config " + path + ": [crosscoder] " + e.what());
  }
  std::string priority = trainer_priority_name(analysis.priority);
  text("crosscoder", "priority", &priority);
  try {
    analysis.priority = parse_trainer_priority(priority);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("config " + path + ": [crosscoder] priority: " + e.what());
  }
  number("crosscoder", "top_k", &analysis.top_k);
  number("crosscoder", "refine_steps", &analysis.refine_steps);  // a non-negative integer; 0: no refinement
  real("crosscoder", "refine_after_idle_seconds", &analysis.refine_after_idle_seconds);
  if (!(analysis.refine_after_idle_seconds >= 0))
    throw std::runtime_error("config " + path + ": [crosscoder] refine_after_idle_seconds must be >= 0");
  std::set<std::string> crosscoder_keys = {"enabled",  "features_per_dim", "max_features",
                                           "sparsity_lambda", "priority", "top_k",
                                           "refine_steps", "refine_after_idle_seconds"};
  crosscoder_keys.insert(kConfiguredCrosscoderOptions.begin(), kConfiguredCrosscoderOptions.end());
  refuse_unknown_keys("crosscoder", crosscoder_keys);
  // [analysis]: the trainers every tap shares (analysis/trainer_pool.h,
  // analysis/memory_budget.h); a misspelt key would leave them unbounded.
  if (const auto* section = table["analysis"].as_table()) {
    for (const auto& [key, value] : *section) {
      static const std::set<std::string> keys = {"workers",       "memory_cap_bytes",    "trainer_ranks",
                                                 "trainer_listen", "spawn_trainer_ranks", "trainer_program",
                                                 "trainer_rank_timeout_seconds"};
      if (!keys.count(std::string(key.str())))
        throw std::runtime_error("config " + path + ": [analysis] has no key '" + std::string(key.str()) +
                                 "' (workers, memory_cap_bytes, trainer_ranks, trainer_listen, spawn_trainer_ranks, "
                                 "trainer_program, trainer_rank_timeout_seconds)");
    }
  }
  number("analysis", "workers", &analysis.workers);
  if (analysis.workers < 1)
    throw std::runtime_error("config " + path + ": [analysis] workers must be at least 1 (to train nothing: "
                             "[crosscoder] enabled = false)");
  number("analysis", "memory_cap_bytes", &analysis.memory_cap_bytes);
  number("analysis", "trainer_ranks", &analysis.trainer_ranks);
  if (analysis.trainer_ranks < 0)
    throw std::runtime_error("config " + path + ": [analysis] trainer_ranks must be 0 (none) or more");
  text("analysis", "trainer_listen", &analysis.trainer_listen);
  check_host_port(analysis.trainer_listen, "[analysis] trainer_listen", true);
  flag("analysis", "spawn_trainer_ranks", &analysis.spawn_trainer_ranks);
  text("analysis", "trainer_program", &analysis.trainer_program);
  real("analysis", "trainer_rank_timeout_seconds", &analysis.trainer_rank_timeout_seconds);
  if (!(analysis.trainer_rank_timeout_seconds > 0))
    throw std::runtime_error("config " + path + ": [analysis] trainer_rank_timeout_seconds must be > 0");
  real("emergence", "threshold", &analysis.monitor.emergence.threshold);
  real("emergence", "hysteresis", &analysis.monitor.emergence.hysteresis);
  flag("emergence", "activation_evidence", &analysis.monitor.emergence.activation_evidence);
  flag("emergence", "activation_fades", &analysis.monitor.emergence.activation_fades);
  real("emergence", "activation_fade_below", &analysis.monitor.emergence.activation_fade_below);
  flag("emergence", "activation_dates", &analysis.monitor.emergence.activation_dates);
  real("emergence", "direction_held_cosine", &analysis.monitor.emergence.direction_held_cosine);
  try {  // at start-up, not when the first feature is tracked
    FeatureEventTracker check(analysis.monitor.emergence);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("config " + path + ": [" + std::string(e.what()));
  }
  for (const char* removed : {"absent_frequency", "require_absence_evidence"})
    if (table["emergence"][removed])
      throw std::runtime_error("config " + path + ": [emergence] " + removed +
                               " was removed (firing frequency is no evidence: it follows the decoder norm); use "
                               "activation_evidence = true|false");
  load_transitions(table, path, &analysis.monitor);
  if (table.contains("alerts")) load_alerts_config(path, &config->alerts);
}

}  // namespace cw
