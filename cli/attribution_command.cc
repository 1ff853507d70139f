#include "cli/attribution_command.h"

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/analysis_commands.h"
#include "cli/run_target.h"
#include "cli/text_table.h"

namespace cw {
namespace {

std::string step_or_dash(const nlohmann::json& step) { return step.is_number() ? step.dump() : "-"; }

std::string percent(const nlohmann::json& share) {
  return share.is_number() ? fixed(share.get<double>() * 100, 0) + "%" : "-";
}

void print_attribution(const nlohmann::json& j) {
  std::cout << "task " << j["task"].get<std::string>() << " at " << j["run"].get<std::string>() << "/"
            << j["tap"].get<std::string>() << ": " << j["task_tokens"] << " task tokens, " << j["n_features"]
            << " features, " << j["steps"].size() << " snapshots";
  if (!j.value("complete", true)) {
    std::cout << " (the crosscoder holds " << j["crosscoder_snapshots"]
              << ": the task's newest arrays have not arrived yet)";
  }
  std::cout << "\nmetric: " << j.value("metric", std::string("-")) << "\n\n";

  TextTable table({"STEP", "METRIC", "X·∂M/∂X", "SUM_ATTR", "EXPLAINED", "SUM_|ATTR|",
                   "TOP FEATURES (attribution share emerged@step)"});
  for (const auto& s : j["snapshots"]) {
    std::string top;
    for (const auto& f : s["top"]) {
      top += (top.empty() ? "" : "  ") + ("f" + f["feature"].dump()) + " " + fixed(f["attribution"]) + " " +
             percent(f["share"]) + " @" + step_or_dash(f["emerged_step"]);
    }
    table.add({s["step"].dump(), fixed(s["metric"]), fixed(s.value("linear_total", nlohmann::json())), fixed(s["total"]),
               percent(s.value("explained", nlohmann::json())), fixed(s["total_abs"]), top});
  }
  table.print(std::cout);
  std::cout << "EXPLAINED: SUM_ATTR over X·∂M/∂X, the share of the metric's linear read the features carry (the rest:\n"
               "reconstruction error and decoder bias); where it is small the attributions say little.\n";

  const auto& last = j["snapshots"].back();
  std::cout << "\nfeatures carrying the task at step " << last["step"]
            << "; HISTORY: share of |attribution| per snapshot, scaled to its maximum\n";
  TextTable features({"FEATURE", "EMERGED", "FADED", "ATTR", "SHARE", "HISTORY", "TOP_CONTEXT"});
  const auto& steps = j["steps"];
  const auto at = std::find(steps.begin(), steps.end(), last["step"]) - steps.begin();
  for (const auto& f : j["features"]) {
    std::vector<double> shares = f["share"].get<std::vector<double>>();
    const double peak = shares.empty() ? 0 : *std::max_element(shares.begin(), shares.end());
    for (auto& v : shares) v = peak > 0 ? v / peak : 0;
    features.add({f["feature"].dump(), step_or_dash(f["emerged_step"]), step_or_dash(f["faded_step"]),
                  fixed(f["attribution"][at]), percent(f["share"][at]), sparkline(shares),
                  f.value("top_context", std::string())});
  }
  features.print(std::cout);
}

struct AttributionArgs {
  RunTarget target;
  std::string task;
  int64_t top = 5;
  int64_t step = -1;  // none: every snapshot
};

}  // namespace

void add_attribution_command(CLI::App& app, const CliContext& context, int* exit_code) {
  (void)exit_code;
  auto args = std::make_shared<AttributionArgs>();  // owned by the callback, which the app keeps
  auto* command = app.add_subcommand(
      "attribution", "which features carry a task metric at each snapshot (attr = f · W_D · ∂m/∂x over task tokens)");
  add_run_target(command, &args->target);
  command->add_option("--task", args->task, "task name (without it the error lists the run's tasks)");
  command->add_option("--top", args->top, "features per snapshot, by |attribution|")->capture_default_str();
  command->add_option("--step", args->step, "that snapshot only");
  command->callback([&context, args] {
    nlohmann::json params = args->target.params();
    params["task"] = args->task;
    params["top"] = args->top;
    if (args->step >= 0) params["step"] = args->step;
    print_answer(context, ask(context, "attribution", params).json, print_attribution);
  });
}

}  // namespace cw
