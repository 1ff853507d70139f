// cw_replay_transitions: the daemon's phase-transition detector (analysis/
// tap_monitor.h) replayed over series the daemon already stored, under a
// config given here: to try detector settings on many runs in seconds
// instead of re-running the crosscoder. Inputs are `conceptwatch --json
// crosscoder` output (one run) or cw_science_planted --json results (one
// run per stream, with the planted mass-emergence steps). One line per run:
// every transition with the feature signals and job scalars that flagged it.
//
// The replay feeds each snapshot's stored values in step order, which is
// what the daemon's monitor saw: the arrival series and the feature series
// stored with a snapshot are the values it observed for that snapshot.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/tap_monitor.h"
#include "bench/science/stored_series.h"
#include "daemon/daemon_config.h"

namespace cw::bench {
namespace {

struct StoredRun {
  std::string name;
  nlohmann::json snapshots;  // [{"step": s, name: value, ...}]
  std::vector<uint64_t> expected_steps;  // planted mass emergences (science results only)
};

std::vector<StoredRun> read_runs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  const auto doc = nlohmann::json::parse(in);
  std::vector<StoredRun> runs;
  if (doc.is_object() && doc.contains("snapshots")) {  // conceptwatch --json crosscoder
    runs.push_back({path + ":" + doc.value("run", std::string("?")), stored_series(doc), {}});
  } else if (doc.is_array()) {  // cw_science_planted --json
    for (const auto& stream : doc) {
      if (!stream.contains("series") || stream["series"].empty()) continue;
      StoredRun run{stream.at("stream").get<std::string>(), stream["series"], {}};
      for (const auto& index : stream.at("score").at("mass_snapshots"))
        run.expected_steps.push_back(run.snapshots.at(index.get<size_t>()).at("step").get<uint64_t>());
      runs.push_back(std::move(run));
    }
  } else {
    throw std::runtime_error(path + ": neither `conceptwatch --json crosscoder` output nor cw_science_planted --json results");
  }
  return runs;
}

// The transitions as the `phases` query states them (analysis/tap_monitor.h).
nlohmann::json replay_json(const StoredRun& run, const MonitorOptions& options) {
  TapMonitor monitor("replay", "tap", options, std::nullopt, [](const nlohmann::json&) {});
  for (const auto& snapshot : run.snapshots) {
    std::map<std::string, double> values;
    for (const auto& [name, value] : snapshot.items())
      if (name != "step" && value.is_number()) values[name] = value.get<double>();
    monitor.observe_snapshot(snapshot.at("step").get<uint64_t>(), values);
  }
  return monitor.transitions_json();
}

// One table cell: each transition's step, feature signals / job scalars.
std::string replay(const StoredRun& run, const MonitorOptions& options) {
  std::string line;
  for (const auto& t : replay_json(run, options)) {
    std::string signals, scalars;
    for (const auto& move : t["series"]) {
      const auto series = move["series"].get<std::string>();
      const bool scalar = std::find(options.scalar_series.begin(), options.scalar_series.end(), series) !=
                          options.scalar_series.end();
      std::string& list = scalar ? scalars : signals;
      list += (list.empty() ? "" : ",") + series + "(" + move["detectors"].get<std::string>() + ")";
    }
    line += (line.empty() ? "" : "; ") + std::to_string(t["onset_step"].get<uint64_t>()) + ": " +
            (signals.empty() ? "-" : signals) + " / " + (scalars.empty() ? "-" : scalars);
  }
  return line.empty() ? "none" : line;
}

}  // namespace
}  // namespace cw::bench

int main(int argc, char** argv) {
  using namespace cw;
  CLI::App app{"cw_replay_transitions: the transition detector replayed over stored series under a given config"};
  std::vector<std::string> files;
  std::string config_path;
  bool no_scalars = false, json = false;
  app.add_option("files", files, "`conceptwatch --json crosscoder` outputs or cw_science_planted --json results")
      ->required();
  app.add_option("--config", config_path, "conceptwatchd config whose [transitions] to use (default: built-in)");
  app.add_flag("--no-scalars", no_scalars, "watch no job scalars (feature signals alone)");
  app.add_flag("--json", json, "each run's transitions in full (every move: detectors, onset, magnitude), one JSON line per run");
  CLI11_PARSE(app, argc, argv);
  try {
    DaemonConfig config = default_daemon_config();
    if (!config_path.empty()) load_daemon_config(config_path, &config);
    MonitorOptions options = config.analysis.monitor;
    if (no_scalars) options.scalar_series.clear();
    if (!json)
      std::printf("| run | planted mass emergence | transitions (step: feature signals / scalars) |\n|---|---|---|\n");
    for (const auto& file : files) {
      for (const auto& run : bench::read_runs(file)) {
        if (json) {
          std::printf("%s\n", nlohmann::json({{"run", run.name}, {"planted_mass_steps", run.expected_steps},
                                               {"transitions", bench::replay_json(run, options)}})
                                   .dump()
                                   .c_str());
          continue;
        }
        std::string expected;
        for (auto s : run.expected_steps) expected += (expected.empty() ? "" : ",") + std::to_string(s);
        std::printf("| %s | %s | %s |\n", run.name.c_str(), expected.empty() ? "-" : expected.c_str(),
                    bench::replay(run, options).c_str());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "cw_replay_transitions: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
