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
#include "analysis/emergence_agreement.h"
#include "analysis/feature_analysis.h"
#include "analysis/feature_population.h"
#include "cli/cli_context.h"
#include "cli/run_target.h"
#include "cli/text_table.h"
#include "crosscoder/crosscoder.h"
#include "crosscoder/tensor_heap.h"
#include "daemon/daemon_config.h"
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
  std::string config;  // conceptwatchd's TOML: [emergence], and [crosscoder] when there is no online one
  int64_t n_features = 0;  // 0: the online crosscoder's (or the configuration's)
  std::optional<double> decoder_fusion;  // none: the online crosscoder's (or the configuration's)
  AgreementOptions agreement;
};

// The online crosscoder's and the offline fit's features, matched by final
// decoder direction, with their first emergence compared.
nlohmann::json agreement_json(const EmergenceAgreement& agreement, const std::vector<uint64_t>& steps,
                              const AgreementOptions& options, const std::string& matched_at) {
  auto step_of = [&](const std::optional<std::size_t>& snapshot) {
    return snapshot ? nlohmann::json(steps.at(*snapshot)) : nlohmann::json(nullptr);
  };
  nlohmann::json features = nlohmann::json::array();
  for (const auto& m : agreement.matched)
    features.push_back({{"online_feature", m.feature}, {"offline_feature", m.other}, {"cosine", m.cosine},
                        {"online_first_step", step_of(m.first)}, {"offline_first_step", step_of(m.other_first)},
                        {"agrees", m.agrees}, {"online_claimed_step", step_of(m.claimed)},
                        {"offline_claimed_step", step_of(m.other_claimed)}, {"claims_agree", m.claims_agree}});
  return {{"matched_at", matched_at}, {"min_cosine", options.min_cosine}, {"tolerance_snapshots", options.tolerance},
          {"one_to_one", options.one_to_one},
          {"online_live", agreement.live}, {"matched", agreement.matched.size()}, {"agreeing", agreement.agreeing},
          {"share", agreement.share()}, {"claims_agreeing", agreement.claims_agreeing},
          {"claims_share", agreement.claims_share()}, {"features", features}};
}

FeatureAnalysis analyse(const Crosscoder& crosscoder, const EmergenceOptions& options) {
  return analyse_features(crosscoder.feature_stats(), crosscoder.steps(), options);
}

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
  std::optional<Crosscoder> online = load_online(*store, args.target.run, tap);
  DaemonConfig config = default_daemon_config();
  if (!args.config.empty()) load_daemon_config(args.config, &config);
  CrosscoderOptions options =
      online ? online->options() : crosscoder_options_for(config.analysis, metas.front().d_model);
  if (args.n_features > 0) options.n_features = args.n_features;
  if (args.decoder_fusion) options.decoder_fusion = *args.decoder_fusion;
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
  nlohmann::json result = {{"run", args.target.run}, {"tap", tap}, {"seconds", seconds}, {"snapshots", rows},
                           {"decoder_fusion", {{"offline", options.decoder_fusion}}}};
  if (online) result["decoder_fusion"]["online"] = online->options().decoder_fusion;
  // Emergence dates compared, when the online crosscoder holds exactly the
  // stored snapshots (not while it is still catching up).
  if (online && online->steps() == steps) {
    for (std::size_t t = 0; t < arrays.size(); ++t)
      online->restore_activations(int64_t(t), arrays[t].data(), metas[t].n_tokens);
    const EmergenceOptions& emergence = config.analysis.monitor.emergence;
    const FeatureAnalysis online_analysis = analyse(*online, emergence), offline_analysis = analyse(offline, emergence);
    const auto last = int64_t(steps.size()) - 1;
    // Matched by each feature's row at its strongest snapshot: at the final
    // one a faded feature's row is a leftover (the paper's fit) or silenced
    // to zero (online), and on the demo nearly every feature has faded by
    // then (docs/CROSSCODER.md "Emergence dates, online against the
    // refit"). The final snapshot's matching is reported beside it.
    const std::vector<float> online_strongest = online->strongest_decoder_directions(),
                             offline_strongest = offline.strongest_decoder_directions(),
                             online_final = online->decoder_directions(last),
                             offline_final = offline.decoder_directions(last);
    AgreementOptions agreement = args.agreement;
    agreement.threshold = emergence.threshold;
    // The flicker `conceptwatch crosscoder` reports, of both: what the
    // paper's offline method shows on the same snapshots is the reference
    // for the online one's.
    const PopulationSeries online_population = population_series(online_analysis, emergence.threshold),
                           offline_population = population_series(offline_analysis, emergence.threshold);
    result["flicker"] = {{"online", online_population.flicker},
                         {"offline", offline_population.flicker},
                         {"online_returned", online_population.returned_share},
                         {"offline_returned", offline_population.returned_share},
                         {"online_live", online_population.live},
                         {"offline_live", offline_population.live}};
    result["emergence_agreement"] = agreement_json(
        emergence_agreement({&online_analysis, &online_strongest}, {&offline_analysis, &offline_strongest}, agreement),
        steps, agreement, "strongest snapshot");
    result["emergence_agreement_at_final_snapshot"] = agreement_json(
        emergence_agreement({&online_analysis, &online_final}, {&offline_analysis, &offline_final}, agreement), steps,
        agreement, "final snapshot");
  } else if (online) {
    result["emergence_agreement"] = nullptr;
    std::cerr << "refit: the online crosscoder holds " << online->steps().size() << " of the " << steps.size()
              << " stored snapshots; emergence dates are compared once it has caught up\n";
  }
  print_answer(context, result, [&](const nlohmann::json&) {
    TextTable table({"STEP", "EV_OFFLINE", "EV_ONLINE", "L0_OFFLINE", "L0_ONLINE"});
    for (const auto& row : rows) {
      table.add({std::to_string(row["step"].get<uint64_t>()), fixed(row["offline_explained_variance"]),
                 row.contains("online_explained_variance") ? fixed(row["online_explained_variance"]) : "-",
                 fixed(row["offline_l0"], 1), row.contains("online_l0") ? fixed(row["online_l0"], 1) : "-"});
    }
    table.print(std::cout);
    std::cout << "offline refit took " << fixed(seconds, 1) << " s (decoder_fusion "
              << fixed(result["decoder_fusion"]["offline"], 2) << ")\n";
    for (const char* key : {"emergence_agreement", "emergence_agreement_at_final_snapshot"}) {
      const nlohmann::json agreement = result.value(key, nlohmann::json());
      if (agreement.is_null()) continue;
      std::cout << "emergence dates: " << agreement["agreeing"] << " of " << agreement["matched"]
                << " online features matched in the refit (" << (agreement.value("one_to_one", false) ? "one to one, " : "")
                << "decoder cosine >= " << fixed(agreement["min_cosine"], 2) << " at the "
                << agreement["matched_at"].get<std::string>() << ", of " << agreement["online_live"]
                << " live) first emerge within " << agreement["tolerance_snapshots"] << " snapshot of each other ("
                << fixed(agreement["share"], 3) << "); the emergence `features` claims (latest era) agrees for "
                << agreement["claims_agreeing"] << " (" << fixed(agreement["claims_share"], 3) << ")\n";
    }
    if (const auto flicker = result.find("flicker"); flicker != result.end())
      std::cout << "flicker (live features whose normalised decoder norm crosses the emergence threshold more than "
                   "once): online "
                << fixed((*flicker)["online"]) << ", offline " << fixed((*flicker)["offline"])
                << "; returned after a fade: online " << fixed((*flicker)["online_returned"]) << ", offline "
                << fixed((*flicker)["offline_returned"]) << "\n";
  });
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) {
  cw::keep_freed_tensor_memory();  // the refit trains in this process (crosscoder/tensor_heap.h)
  cw::CliContext context;
  context.data_dir = cw::default_data_dir();
  cw::RefitArgs args;
  CLI::App app{"conceptwatch refit: train a fresh crosscoder on all stored snapshots (the paper's offline method) "
               "and compare with the online one"};
  app.name("conceptwatch refit");
  // `conceptwatch refit` passes the CLI's --data-dir, --json and --config
  // first and the user's words after `refit` next: the last one given wins,
  // so `conceptwatch refit --data-dir D` reads D (it was refused as given twice).
  app.add_option("--data-dir", context.data_dir, "data directory (read-only)")->capture_default_str()->take_last();
  app.add_flag("--json", context.json, "print JSON instead of tables")->take_last();
  cw::add_run_target(&app, &args.target);
  app.add_option("--steps", args.steps, "training steps")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--out", args.out, "also export the offline crosscoder here");
  app.add_option("--config", args.config,
                 "conceptwatchd's TOML configuration: its [emergence] settings date the features of both "
                 "crosscoders, its [crosscoder] settings train the refit when there is no online crosscoder")
      ->take_last();
  app.add_option("--n-features", args.n_features,
                 "features of the offline fit (default: the online crosscoder's, else the configuration's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));  // CLI::NonNegativeNumber would print DBL_MAX's 309 digits
  app.add_option("--decoder-fusion", args.decoder_fusion,
                 "the offline fit's fused decoder rows (default: the online crosscoder's, else the configuration's; "
                 "0: the paper's loss)")
      ->check(CLI::Range(0.0, 1e6));  // check_option_ranges' bound (it also refuses 1e6 itself)
  app.add_option("--match-cosine", args.agreement.min_cosine,
                 "features are the same when their decoder rows (each at its strongest snapshot; at the final "
                 "one beside it) have at least this cosine")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  bool many_to_one = false;
  app.add_flag("--many-to-one", many_to_one,
               "let several online features match one refit feature (each takes its nearest; before, the only way)");
  try {
    app.parse(argc, argv);
    args.agreement.one_to_one = !many_to_one;
    cw::refit(context, args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "conceptwatch refit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
