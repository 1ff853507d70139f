// The daemon's TOML configuration: the shipped file reads back as the
// defaults it documents, mistakes in [transitions] are named, and [daemon]
// read_only meets --read-only through the real daemon.
#include "daemon/daemon_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "crosscoder/crosscoder_options.h"
#include "store/store.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

std::string error_of(const std::string& toml) {
  testing::TempDir dir;
  const std::string path = dir.sub("bad.toml");
  std::ofstream(path) << toml;
  DaemonConfig config = default_daemon_config();
  try {
    load_daemon_config(path, &config);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Every crosscoder option by its name, through the one list of them.
nlohmann::json options_json(const CrosscoderOptions& options) {
  nlohmann::json j;
  visit_crosscoder_options(options, [&](const char* key, const auto& value, OptionKey) { j[key] = value; });
  return j;
}

// The defaults overlaid with `toml`, which must load.
DaemonConfig config_of(const std::string& toml) {
  testing::TempDir dir;
  const std::string path = dir.sub("ok.toml");
  std::ofstream(path) << toml;
  DaemonConfig config = default_daemon_config();
  load_daemon_config(path, &config);
  return config;
}

TEST(DaemonConfig, TheShippedFileStatesTheDefaults) {
  DaemonConfig shipped = default_daemon_config();
  load_daemon_config(std::string(CW_SOURCE_DIR) + "/deploy/conceptwatchd.toml", &shipped);
  const MonitorOptions defaults;
  const MonitorOptions& read = shipped.analysis.monitor;
  EXPECT_EQ(read.series, defaults.series);
  EXPECT_EQ(read.scalar_series, defaults.scalar_series);
  EXPECT_EQ(read.joining_only, defaults.joining_only);
  EXPECT_EQ(read.min_move, defaults.min_move);
  EXPECT_EQ(read.loss_min_move, defaults.loss_min_move);
  EXPECT_EQ(read.surprise_ratio_alarm, defaults.surprise_ratio_alarm);
  EXPECT_EQ(read.resolve_after, defaults.resolve_after);
  EXPECT_EQ(read.population_lag, defaults.population_lag);
  EXPECT_EQ(read.spike_above, defaults.spike_above);
  EXPECT_EQ(read.emergence.activation_evidence, defaults.emergence.activation_evidence);
  EXPECT_EQ(read.emergence.activation_fades, defaults.emergence.activation_fades);
  EXPECT_EQ(read.emergence.activation_fade_below, defaults.emergence.activation_fade_below);
  EXPECT_EQ(read.emergence.activation_dates, defaults.emergence.activation_dates);
  EXPECT_EQ(read.emergence.direction_held_cosine, defaults.emergence.direction_held_cosine);
  EXPECT_EQ(shipped.analysis.crosscoder.normalisation, default_daemon_config().analysis.crosscoder.normalisation);
  EXPECT_EQ(shipped.analysis.crosscoder.decoder_fusion, default_daemon_config().analysis.crosscoder.decoder_fusion);
  EXPECT_EQ(shipped.analysis.priority, default_daemon_config().analysis.priority);
  EXPECT_EQ(shipped.limits.max_snapshot_bytes, default_daemon_config().limits.max_snapshot_bytes);
  const IngestLimits& limits = shipped.limits;  // the shipped file states the defaults
  const IngestLimits defaults_limits;
  EXPECT_EQ(limits.max_pending_bytes, defaults_limits.max_pending_bytes);
  EXPECT_EQ(limits.max_pending_bytes_per_peer, defaults_limits.max_pending_bytes_per_peer);
  EXPECT_EQ(limits.max_pending_arrays, defaults_limits.max_pending_arrays);
  EXPECT_EQ(limits.max_pending_arrays_per_peer, defaults_limits.max_pending_arrays_per_peer);
  EXPECT_EQ(limits.max_d_model, defaults_limits.max_d_model);
  EXPECT_EQ(limits.max_probe_tokens, defaults_limits.max_probe_tokens);
  EXPECT_EQ(limits.max_taps, defaults_limits.max_taps);
  EXPECT_EQ(limits.max_tasks, defaults_limits.max_tasks);
  EXPECT_EQ(limits.max_vocabulary, defaults_limits.max_vocabulary);
  EXPECT_EQ(limits.max_scalars, defaults_limits.max_scalars);
  EXPECT_EQ(options_json(shipped.analysis.crosscoder), options_json(default_daemon_config().analysis.crosscoder));
  EXPECT_EQ(shipped.analysis.workers, default_daemon_config().analysis.workers);
  EXPECT_EQ(shipped.analysis.memory_cap_bytes, default_daemon_config().analysis.memory_cap_bytes);
  EXPECT_EQ(shipped.analysis.refine_steps, default_daemon_config().analysis.refine_steps);
  EXPECT_EQ(shipped.analysis.refine_after_idle_seconds, default_daemon_config().analysis.refine_after_idle_seconds);
  EXPECT_EQ(shipped.read_only, default_daemon_config().read_only);
}

TEST(DaemonConfig, ReadOnlyIsADaemonKey) {
  EXPECT_FALSE(default_daemon_config().read_only);
  EXPECT_TRUE(config_of("[daemon]\nread_only = true\n").read_only);
  EXPECT_FALSE(config_of("[daemon]\nread_only = false\n").read_only);
  EXPECT_NE(error_of("[daemon]\nread_only = \"yes\"\n").find("[daemon] read_only must be true or false"),
            std::string::npos);
}

// Through the real daemon: the file's read_only serves the store read-only
// (no crosscoder, data refused), and --read-only=false on the command line
// wins over it.
TEST(DaemonConfig, ReadOnlyFromTheFileAndTheFlagOverridesIt) {
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();  // creates the store: a read-only daemon opens an existing one
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  const std::string config = daemon.scratch().sub("read_only.toml");
  std::ofstream(config) << "[daemon]\nread_only = true\n";

  daemon.set_extra_args({"--config", config});
  daemon.start();
  nlohmann::json status = daemon.query("status");
  EXPECT_TRUE(status["daemon"]["read_only"].get<bool>()) << status.dump();
  EXPECT_FALSE(status["daemon"]["store"]["writable"].get<bool>()) << status.dump();
  EXPECT_FALSE(status["daemon"]["analysis"].get<bool>()) << status.dump();
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();

  daemon.set_extra_args({"--config", config, "--read-only=false"});
  daemon.start();
  status = daemon.query("status");
  EXPECT_FALSE(status["daemon"]["read_only"].get<bool>()) << status.dump();
  EXPECT_TRUE(status["daemon"]["store"]["writable"].get<bool>()) << status.dump();
  EXPECT_EQ(status["daemon"]["analysis"].get<bool>(), bool(CW_DAEMON_HAS_ANALYSIS)) << status.dump();
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
}

TEST(DaemonConfig, AnalysisSectionSetsTheTrainersAndNamesMistakes) {
  const DaemonConfig config = config_of("[analysis]\nworkers = 3\nmemory_cap_bytes = 1073741824\n");
  EXPECT_EQ(config.analysis.workers, 3);
  EXPECT_EQ(config.analysis.memory_cap_bytes, 1073741824u);
  EXPECT_NE(error_of("[analysis]\nworkers = 0\n").find("[analysis] workers must be at least 1"), std::string::npos);
  EXPECT_NE(error_of("[analysis]\nmemory_cap = 5\n").find("[analysis] has no key 'memory_cap'"), std::string::npos);
}

TEST(DaemonConfig, CrosscoderSectionReadsTheOptionsByTheirNames) {
  const DaemonConfig config = config_of(
      "[crosscoder]\nn_features = 96\nsteps_per_update = 7\nseconds_per_update = 2.5\nbatch_size = 64\n"
      "lr = 0.02\ninitial_threshold = 0.3\nste_window = 2.0\nrecruit_fraction = 0.5\ndead_frequency = 0.001\n"
      "seed = 9\nthreads = 3\ndevice = \"cuda:1\"\nrecruit_faded = false\nsplit_returning_cosine = 0.4\n"
      "fold_unexplained = 0.05\njoin_handover_cosine = 0\nsilence_faded_rows = false\nhold_out_every = 8\n"
      "normalisation = \"token\"\ndecoder_fusion = 1.5\n");
  const CrosscoderOptions& o = config.analysis.crosscoder;
  EXPECT_EQ(o.n_features, 96);
  EXPECT_EQ(o.steps_per_update, 7);
  EXPECT_EQ(o.seconds_per_update, 2.5);
  EXPECT_EQ(o.batch_size, 64);
  EXPECT_EQ(o.lr, 0.02);
  EXPECT_EQ(o.initial_threshold, 0.3);
  EXPECT_EQ(o.ste_window, 2.0);
  EXPECT_EQ(o.recruit_fraction, 0.5);
  EXPECT_EQ(o.dead_frequency, 0.001);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.device, "cuda:1");
  EXPECT_FALSE(o.recruit_faded);
  EXPECT_EQ(o.split_returning_cosine, 0.4);
  EXPECT_EQ(o.fold_unexplained, 0.05);
  EXPECT_EQ(o.join_handover_cosine, 0.0);
  EXPECT_FALSE(o.silence_faded_rows);
  EXPECT_EQ(o.hold_out_every, 8);
  EXPECT_EQ(default_daemon_config().analysis.crosscoder.hold_out_every, 32);
  EXPECT_EQ(o.normalisation, "token");
  EXPECT_EQ(default_daemon_config().analysis.crosscoder.normalisation, "snapshot");
  EXPECT_EQ(o.decoder_fusion, 1.5);
  EXPECT_EQ(default_daemon_config().analysis.crosscoder.decoder_fusion, 0.0);
  EXPECT_NE(error_of("[crosscoder]\ndecoder_fusion = -1\n").find("[crosscoder] decoder_fusion must be a number >= 0"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nnormalisation = \"batch\"\n").find("[crosscoder] normalisation must be \"snapshot\""),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nhold_out_every = 1\n").find("[crosscoder] hold_out_every must be 0"),
            std::string::npos);
  EXPECT_EQ(default_daemon_config().analysis.crosscoder.fold_unexplained, 0.1);
  EXPECT_TRUE(default_daemon_config().analysis.crosscoder.silence_faded_rows);
  EXPECT_NE(error_of("[crosscoder]\nfold_unexplained = 1\n").find("[crosscoder] fold_unexplained must be in [0, 1)"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\njoin_handover_cosine = -0.5\n").find("[crosscoder] join_handover_cosine must be in"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nrecruit_fraktion = 0.5\n").find("[crosscoder] has no key 'recruit_fraktion'"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nbatch_size = \"big\"\n").find("[crosscoder] batch_size must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nlr = \"fast\"\n").find("[crosscoder] lr must be a number"), std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\ndevice = 1\n").find("[crosscoder] device must be a string"), std::string::npos);
}

TEST(DaemonConfig, RefinementIsReadAndBadValuesAreRefused) {
  const DaemonConfig config = config_of("[crosscoder]\nrefine_steps = 0\nrefine_after_idle_seconds = 2.5\n");
  EXPECT_EQ(config.analysis.refine_steps, 0);
  EXPECT_EQ(config.analysis.refine_after_idle_seconds, 2.5);
  EXPECT_EQ(default_daemon_config().analysis.refine_steps, 8000);
  EXPECT_NE(error_of("[crosscoder]\nrefine_steps = -1\n").find("[crosscoder] refine_steps must be"), std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nrefine_after_idle_seconds = -1\n")
                .find("[crosscoder] refine_after_idle_seconds must be >= 0"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nrefine_after_idle_seconds = \"soon\"\n")
                .find("[crosscoder] refine_after_idle_seconds must be a number"),
            std::string::npos);
}

TEST(DaemonConfig, AnArrayLimitAboveOneStoreValueIsRefused) {
  // 4 GiB exactly was the old default: RocksDB refused such a value while
  // the ingest path acknowledged the array.
  EXPECT_NE(error_of("[ingest]\nmax_snapshot_bytes = 4294967296\n").find("more than one store value can hold"),
            std::string::npos);
  EXPECT_EQ(error_of("[ingest]\nmax_snapshot_bytes = 4294967295\n"), "");
  EXPECT_EQ(default_daemon_config().limits.max_snapshot_bytes, Store::kMaxValueBytes);
}

TEST(DaemonConfig, AnIntegerNoDoubleHoldsIsRefusedLikeAnyNonNumber) {
  // fuzz/config_fuzzer.cc found it: TOML says it is a number, but toml++'s
  // value<double>() is empty for it, and reading that threw
  // std::bad_optional_access ("bad optional access") out of the loader.
  const std::string big = "12345678901234567";  // 2^53 < big, odd: no double is it
  EXPECT_NE(error_of("[transitions.spike_above]\nemergence_share = " + big + "\n").find("must be a non-negative number"),
            std::string::npos);
  EXPECT_NE(error_of("[transitions]\nloss_min_move = " + big + "\n").find("must be a non-negative number"),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nsparsity_lambda = " + big + "\n").find("sparsity_lambda must be"),
            std::string::npos);
  EXPECT_NE(error_of("[emergence]\nthreshold = " + big + "\n").find("threshold must be a number"), std::string::npos);
  EXPECT_EQ(error_of("[transitions.spike_above]\nemergence_share = 3\n"), "");
}

// [emergence] values the detector would refuse are refused at start-up,
// naming the key, not when the first feature is tracked.
TEST(DaemonConfig, EmergenceValuesTheDetectorRefusesAreRefusedAtLoad) {
  EXPECT_NE(error_of("[emergence]\nactivation_fade_below = 0.4\n").find("activation_fade_below must be in [0, threshold - hysteresis]"),
            std::string::npos);
  EXPECT_NE(error_of("[emergence]\nhysteresis = 0.8\n").find("hysteresis must be in [0, threshold]"), std::string::npos);
  EXPECT_EQ(error_of("[emergence]\nactivation_fade_below = 0.3\n"), "");
  EXPECT_TRUE(config_of("[emergence]\nactivation_dates = true\n").analysis.monitor.emergence.activation_dates);
  EXPECT_EQ(config_of("[emergence]\ndirection_held_cosine = -1\n").analysis.monitor.emergence.direction_held_cosine, -1);
  EXPECT_NE(error_of("[emergence]\ndirection_held_cosine = 1.5\n").find("direction_held_cosine must be in [-1, 1]"),
            std::string::npos);
}

TEST(DaemonConfig, TransitionsSectionOverridesAndNamesMistakes) {
  testing::TempDir dir;
  const std::string path = dir.sub("ok.toml");
  std::ofstream(path) << "[transitions]\nseries = [\"mean_direction_change\"]\nscalars = [\"val_loss\"]\n"
                         "joining_only = []\nloss_min_move = 0.1\n[transitions.min_move]\nval_loss = 0.05\n";
  DaemonConfig config = default_daemon_config();
  EXPECT_EQ(config.analysis.monitor.joining_only, std::vector<std::string>{"log_dimensionality_rate"});
  load_daemon_config(path, &config);
  EXPECT_TRUE(config.analysis.monitor.joining_only.empty());
  EXPECT_EQ(config.analysis.monitor.series, std::vector<std::string>{"mean_direction_change"});
  EXPECT_EQ(config.analysis.monitor.scalar_series, std::vector<std::string>{"val_loss"});
  EXPECT_EQ(config.analysis.monitor.loss_min_move, 0.1);
  EXPECT_EQ(config.analysis.monitor.min_move.at("val_loss"), 0.05);

  // A job scalar listed as a crosscoder series would never be watched.
  EXPECT_NE(error_of("[transitions]\nseries = [\"train_loss\"]\n").find("'scalars'"), std::string::npos);
  EXPECT_NE(error_of("[transitions]\nscalars = \"train_loss\"\n").find("[transitions] scalars"), std::string::npos);
  EXPECT_NE(error_of("[transitions.min_move]\nicl_score = -1\n").find("min_move.icl_score"), std::string::npos);
  EXPECT_NE(error_of("[transitions]\nloss_min_move = \"big\"\n").find("loss_min_move"), std::string::npos);
  EXPECT_NE(error_of("[transitions.spike_above]\nemergence_share = -1\n").find("spike_above.emergence_share"),
            std::string::npos);
}

TEST(DaemonConfig, ScalarsCanBeSwitchedOffAndFeatureSeriesChosen) {
  testing::TempDir dir;
  const std::string path = dir.sub("features.toml");
  std::ofstream(path) << "[transitions]\nseries = [\"emergence_share\", \"dimensionality_rate\"]\nscalars = []\n"
                         "population_lag = 2\n[transitions.spike_above]\nemergence_share = 0.2\n";
  DaemonConfig config = default_daemon_config();
  load_daemon_config(path, &config);
  const MonitorOptions& read = config.analysis.monitor;
  EXPECT_EQ(read.series, (std::vector<std::string>{"emergence_share", "dimensionality_rate"}));
  EXPECT_TRUE(read.scalar_series.empty());
  EXPECT_EQ(read.population_lag, 2u);
  EXPECT_EQ(read.spike_above.at("emergence_share"), 0.2);
  EXPECT_NE(error_of("[transitions]\nseries = [\"emergence\"]\n").find("emergence_share"), std::string::npos);
}

TEST(DaemonConfig, SparsityLambdaIsAutoOrANumber) {
  // The shipped file and the built-in default both leave λ to the
  // dictionary's size (crosscoder/sparsity_default.h).
  DaemonConfig shipped = default_daemon_config();
  load_daemon_config(std::string(CW_SOURCE_DIR) + "/deploy/conceptwatchd.toml", &shipped);
  EXPECT_LT(shipped.analysis.crosscoder.sparsity_lambda, 0);
  EXPECT_LT(default_daemon_config().analysis.crosscoder.sparsity_lambda, 0);

  testing::TempDir dir;
  const std::string path = dir.sub("lambda.toml");
  std::ofstream(path) << "[crosscoder]\nsparsity_lambda = 0.05\n";
  DaemonConfig config = default_daemon_config();
  load_daemon_config(path, &config);
  EXPECT_EQ(config.analysis.crosscoder.sparsity_lambda, 0.05);
  std::ofstream(path) << "[crosscoder]\nsparsity_lambda = \"auto\"\n";
  load_daemon_config(path, &config);
  EXPECT_LT(config.analysis.crosscoder.sparsity_lambda, 0);

  EXPECT_NE(error_of("[crosscoder]\nsparsity_lambda = \"small\"\n").find("sparsity_lambda must be \"auto\""),
            std::string::npos);
  EXPECT_NE(error_of("[crosscoder]\nsparsity_lambda = -0.1\n").find("sparsity_lambda"), std::string::npos);
}

// [auth] is read; a misspelt key there would leave the daemon without
// CURVE, so it is refused by name.
TEST(DaemonConfig, AuthSectionIsReadAndMisspeltKeysAreNamed) {
  const AuthConfig auth = config_of("[auth]\nsecret_key = \"/k/server.secret\"\ningest_keys = \"/k/ingest.d\"\n"
                                    "query_keys = \"/k/query.d\"\nallow_unauthenticated = true\n").auth;
  EXPECT_EQ(auth.secret_key, "/k/server.secret");
  EXPECT_EQ(auth.ingest_keys, "/k/ingest.d");
  EXPECT_EQ(auth.query_keys, "/k/query.d");
  EXPECT_TRUE(auth.allow_unauthenticated);
  EXPECT_FALSE(default_daemon_config().auth.curve());
  EXPECT_NE(error_of("[auth]\nsecret_keys = \"/k/server.secret\"\n").find("[auth] has no key 'secret_keys'"),
            std::string::npos);
}

}  // namespace
}  // namespace cw
