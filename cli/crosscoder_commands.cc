#include "cli/crosscoder_commands.h"

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "analysis/analysis_config.h"
#include "cli/run_target.h"
#include "cli/text_table.h"
#include "crosscoder/crosscoder.h"
#include "query/analysis_queries.h"
#include "store/analysis_tables.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {
namespace {

Crosscoder load_online(Store& store, const std::string& run, const std::string& tap) {
  auto state = CrosscoderStateTable(store).get(run, tap);
  if (!state) throw std::runtime_error("no crosscoder for " + run + "/" + tap + " yet (has the daemon trained one?)");
  return Crosscoder::deserialize(*state);
}

// The command's options, owned by its callback (which the app keeps).
struct RefitArgs {
  RunTarget target;
  int64_t steps = 2000;
  std::string out;  // also export the offline crosscoder here
};

}  // namespace

void add_crosscoder_commands(CLI::App& app, const CliContext& context, int* exit_code) {
  (void)exit_code;
  auto* refit = app.add_subcommand("refit", "train a fresh crosscoder on all stored snapshots (the paper's offline method) and compare with the online one");
  auto refit_args = std::make_shared<RefitArgs>();
  add_run_target(refit, &refit_args->target);
  refit->add_option("--steps", refit_args->steps, "training steps")->capture_default_str();
  refit->add_option("--out", refit_args->out, "also export the offline crosscoder here");
  refit->callback([&context, refit_args] {
    const RunTarget& refit_target = refit_args->target;
    const int64_t refit_steps = refit_args->steps;
    const std::string& refit_out = refit_args->out;
    auto store = open_read_only(context);
    const std::string tap = resolve_tap(*store, refit_target.run, refit_target.params());
    SnapshotTable snapshots(*store);
    const auto metas = snapshots.list(refit_target.run, tap);
    if (metas.empty()) throw std::runtime_error("no snapshots for " + refit_target.run + "/" + tap);
    std::optional<Crosscoder> online;
    try {
      online.emplace(load_online(*store, refit_target.run, tap));
    } catch (const std::runtime_error&) {
    }
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
    std::cerr << "refit: " << steps.size() << " snapshots, " << options.n_features << " features, " << refit_steps
              << " steps\n";
    const auto start = std::chrono::steady_clock::now();
    Crosscoder offline = train_offline(options, steps, pointers, metas.front().n_tokens, refit_steps,
                                       [](int64_t step, double loss) {
                                         std::cerr << "\rrefit: step " << step << " loss " << loss << "   " << std::flush;
                                       });
    std::cerr << "\n";
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto offline_metrics = offline.evaluate();
    std::map<uint64_t, SnapshotMetrics> online_metrics;
    if (online) {
      for (auto& [step, m] : MetricsTable(*store).list(refit_target.run, tap)) {
        online_metrics[step] = {step, m.value("explained_variance", 0.0), m.value("l0", 0.0),
                                m.value("dead_fraction", 0.0), m.value("dense_fraction", 0.0), m.value("mse", 0.0)};
      }
    }
    if (!refit_out.empty()) offline.export_safetensors(refit_out);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& m : offline_metrics) {
      nlohmann::json row = {{"step", m.step}, {"offline_explained_variance", m.explained_variance}, {"offline_l0", m.l0}};
      if (auto it = online_metrics.find(m.step); it != online_metrics.end()) {
        row["online_explained_variance"] = it->second.explained_variance;
        row["online_l0"] = it->second.l0;
      }
      rows.push_back(row);
    }
    nlohmann::json result = {{"run", refit_target.run}, {"tap", tap}, {"seconds", seconds}, {"snapshots", rows}};
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
  });
}

}  // namespace cw
