#include "cli/export_command.h"

#include <iostream>
#include <memory>

#include "cli/run_target.h"
#include "crosscoder/crosscoder_state.h"
#include "query/analysis_queries.h"
#include "store/analysis_tables.h"

namespace cw {
namespace {

struct ExportArgs {
  RunTarget target;
  std::string out_dir;
};

}  // namespace

void add_export_command(CLI::App& app, const CliContext& context) {
  auto* exporter = app.add_subcommand("export", "write the crosscoder as safetensors + config.json for Python");
  auto args = std::make_shared<ExportArgs>();
  add_run_target(exporter, &args->target);
  exporter->add_option("--out", args->out_dir, "directory to write")->required();
  exporter->callback([&context, args] {
    const RunTarget& target = args->target;
    auto store = open_read_only(context);
    const std::string tap = resolve_tap(*store, target.run, target.params());
    const auto bytes = CrosscoderStateTable(*store).get(target.run, tap);
    if (!bytes) throw std::runtime_error("no crosscoder for " + target.run + "/" + tap + " yet (has the daemon trained one?)");
    const StoredCrosscoderState state = decode_crosscoder_state(*bytes);
    if (state.format != kCrosscoderStateFormat)
      throw std::runtime_error("the crosscoder of " + target.run + "/" + tap + " is stored in format " +
                               std::to_string(state.format) + " (a LibTorch pickle, written before format " +
                               std::to_string(kCrosscoderStateFormat) + "): start conceptwatchd once on " +
                               context.data_dir + " (conceptwatchd --data-dir " + context.data_dir +
                               "); it re-saves every crosscoder in format " + std::to_string(kCrosscoderStateFormat) +
                               " when it opens the store, then export again");
    export_crosscoder(state.meta, state.tensors.tensors, args->out_dir);
    const auto& options = state.meta.options;
    const auto snapshots = state.meta.steps.size();
    const nlohmann::json result = {{"run", target.run},        {"tap", tap},
                                   {"out", args->out_dir},     {"snapshots", snapshots},
                                   {"features", options.n_features}, {"d_model", options.d_model}};
    print_answer(context, result, [&](const nlohmann::json&) {
      std::cout << "wrote " << args->out_dir << "/crosscoder.safetensors and config.json: " << snapshots
                << " snapshots x " << options.n_features << " features x d_model " << options.d_model << "\n";
    });
  });
}

}  // namespace cw
