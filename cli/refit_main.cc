// conceptwatch-refit: the paper's offline method — a fresh crosscoder
// trained on all stored snapshots of a (run, tap) — compared with the
// online one. A program of its own because it links LibTorch; `conceptwatch
// refit ARGS` runs it (cli/refit_command.h) so that the CLI itself does not
// pay LibTorch's start-up. Reads the data directory read-only, so it works
// with the daemon up or down.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>

#include "analysis/analysis_config.h"
#include "cli/cli_context.h"
#include "cli/run_target.h"
#include "cli/text_table.h"
#include "crosscoder/crosscoder.h"
#include "query/analysis_queries.h"
#include "schema/defaults.h"
#include "store/analysis_tables.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

struct RefitArgs {
  RunTarget target;
  int64_t steps = 2000;
  std::string out;  // also export the offline crosscoder here
};

// The online crosscoder, when the daemon has trained one.
std::optional<Crosscoder> load_online(Store& store, const std::string& run, const std::string& tap) {
  auto state = CrosscoderStateTable(store).get(run, tap);
  if (!state) return std::nullopt;
  return Crosscoder::deserialize(*state);
}

void refit(const CliContext& context, const RefitArgs& args) {
  auto store = open_read_only(context);
  const std::string tap = resolve_tap(*store, args.target.run, args.target.params());
  SnapshotTable snapshots(*store);
  const auto metas = snapshots.list(args.target.run, tap);
  if (metas.empty()) throw std::runtime_error("no snapshots for " + args.target.run + "/" + tap);
  const std::optional<Crosscoder> online = load_online(*store, args.target.run, tap);
  CrosscoderOptions options;
  if (online) {
    options = online->options();
  } else {
    options.d_model = metas.front().d_model;
    options.n_features = default_feature_count(AnalysisConfig{}, options.d_model);
  }
  std::vector<std::vector<float>> arrays;
  std::vector<const float*> pointers;
  std::vector<uint64_t> steps;
  for (const auto& meta : metas) {
    arrays.push_back(snapshots.read_f32(meta));
    steps.push_back(meta.key.step);
  }
  for (const auto& array : arrays) pointers.push_back(array.data());
  std::cerr << "refit: " << steps.size() << " snapshots, " << options.n_features << " features, " << args.steps
            << " steps\n";
  const auto start = std::chrono::steady_clock::now();
  Crosscoder offline = train_offline(options, steps, pointers, metas.front().n_tokens, args.steps,
                                     [](int64_t step, double loss) {
                                       std::cerr << "\rrefit: step " << step << " loss " << loss << "   " << std::flush;
                                     });
  std::cerr << "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto offline_metrics = offline.evaluate();
  std::map<uint64_t, SnapshotMetrics> online_metrics;
  if (online) {
    for (auto& [step, m] : MetricsTable(*store).list(args.target.run, tap)) {
      online_metrics[step] = {step, m.value("explained_variance", 0.0), m.value("l0", 0.0),
                              m.value("dead_fraction", 0.0), m.value("dense_fraction", 0.0), m.value("mse", 0.0)};
    }
  }
  if (!args.out.empty()) offline.export_safetensors(args.out);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : offline_metrics) {
    nlohmann::json row = {{"step", m.step}, {"offline_explained_variance", m.explained_variance}, {"offline_l0", m.l0}};
    if (auto it = online_metrics.find(m.step); it != online_metrics.end()) {
      row["online_explained_variance"] = it->second.explained_variance;
      row["online_l0"] = it->second.l0;
    }
    rows.push_back(row);
  }
  nlohmann::json result = {{"run", args.target.run}, {"tap", tap}, {"seconds", seconds}, {"snapshots", rows}};
  print_answer(context, result, [&](const nlohmann::json&) {
    TextTable table({"STEP", "EV_OFFLINE", "EV_ONLINE", "L0_OFFLINE", "L0_ONLINE"});
    for (const auto& row : rows) {
      table.add({std::to_string(row["step"].get<uint64_t>()), fixed(row["offline_explained_variance"]),
                 row.contains("online_explained_variance") ? fixed(row["online_explained_variance"]) : "-",
                 fixed(row["offline_l0"], 1), row.contains("online_l0") ? fixed(row["online_l0"], 1) : "-"});
    }
    table.print(std::cout);
    std::cout << "offline refit took " << fixed(seconds, 1) << " s\n";
  });
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) {
  cw::CliContext context;
  context.data_dir = cw::default_data_dir();
  cw::RefitArgs args;
  CLI::App app{"conceptwatch refit: train a fresh crosscoder on all stored snapshots (the paper's offline method) "
               "and compare with the online one"};
  app.name("conceptwatch refit");
  app.add_option("--data-dir", context.data_dir, "data directory (read-only)")->capture_default_str();
  app.add_flag("--json", context.json, "print JSON instead of tables");
  cw::add_run_target(&app, &args.target);
  app.add_option("--steps", args.steps, "training steps")->capture_default_str();
  app.add_option("--out", args.out, "also export the offline crosscoder here");
  try {
    app.parse(argc, argv);
    cw::refit(context, args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "conceptwatch refit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
