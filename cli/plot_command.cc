#include "cli/plot_command.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/heatmap_figure.h"
#include "cli/line_figure.h"
#include "cli/png_image.h"

namespace cw {
namespace {

struct PlotArgs {
  std::string run, tap, out = "features.png";
  int64_t feature = -1;
  int64_t limit = 400;
};

// Rows: live features sorted by emergence step (initialisation features
// first, never-emerged last); columns: snapshots in step order, which for a
// log-spaced checkpoint schedule is a log-spaced step axis.
void plot_heatmap(const CliContext& context, const PlotArgs& args) {
  nlohmann::json params = {{"run", args.run}, {"sort", "emergence"}, {"filter", "live"}, {"limit", args.limit}};
  if (!args.tap.empty()) params["tap"] = args.tap;
  const nlohmann::json answer = ask(context, "features", params).json;
  const nlohmann::json& features = answer["features"];
  if (features.empty()) throw std::runtime_error("no live features yet for run '" + args.run + "'");
  HeatmapFigure figure;
  const std::string tap = answer.value("tap", args.tap);
  figure.title = "run " + args.run + (tap.empty() ? "" : ", tap " + tap);
  for (const auto& f : features) {
    nlohmann::json feature_params = {{"run", args.run}, {"id", f["feature"]}};
    if (!args.tap.empty()) feature_params["tap"] = args.tap;
    const nlohmann::json detail = ask(context, "feature", feature_params).json;
    std::vector<double> row;
    figure.steps.clear();
    for (const auto& p : detail["trajectory"]) {
      row.push_back(p["normalised_norm"].get<double>());
      figure.steps.push_back(p["step"].get<uint64_t>());
    }
    figure.rows.push_back(std::move(row));
  }
  draw_heatmap(figure, layout_heatmap(figure)).save(args.out);
  const auto& steps = figure.steps;
  const std::size_t rows = figure.rows.size();
  print_answer(context, {{"out", args.out}, {"features", rows}, {"snapshots", steps.size()}, {"steps", steps}},
               [&](const nlohmann::json&) {
                 std::cout << "wrote " << args.out << ": " << rows << " features (rows, sorted by emergence) x "
                           << steps.size() << " snapshots (columns, steps " << steps.front() << " .. " << steps.back()
                           << ")\n";
               });
}

// Normalised decoder norm (blue) and activation frequency scaled to its max
// (orange) over snapshots, on a log-step axis, with axes, a title and a
// legend (line_figure.h).
void plot_feature(const CliContext& context, const PlotArgs& args) {
  nlohmann::json params = {{"run", args.run}, {"id", args.feature}};
  if (!args.tap.empty()) params["tap"] = args.tap;
  const nlohmann::json detail = ask(context, "feature", params).json;
  const auto& points = detail["trajectory"];
  if (points.empty()) throw std::runtime_error("feature " + std::to_string(args.feature) + " has no snapshots yet");
  double max_frequency = 0;
  for (const auto& p : points) max_frequency = std::max(max_frequency, p["frequency"].get<double>());
  LineFigure figure;
  const std::string tap = detail.value("tap", args.tap);
  figure.title = "run " + args.run + (tap.empty() ? "" : ", tap " + tap) + ", feature " + std::to_string(args.feature);
  figure.y_label = "value (0 to 1)";
  LineSeries norm{"normalised decoder norm", {31, 119, 180}, {}};
  std::ostringstream frequency_label;
  frequency_label << "frequency / max (" << max_frequency << ")";
  LineSeries frequency{frequency_label.str(), {255, 127, 14}, {}};
  for (const auto& p : points) {
    figure.steps.push_back(p["step"].get<uint64_t>());
    norm.values.push_back(p["normalised_norm"].get<double>());
    frequency.values.push_back(max_frequency > 0 ? p["frequency"].get<double>() / max_frequency : 0.0);
  }
  figure.lines = {norm, frequency};
  draw_line_figure(figure, layout_line_figure(figure)).save(args.out);
  print_answer(context, {{"out", args.out}, {"feature", args.feature}, {"snapshots", points.size()}},
               [&](const nlohmann::json&) {
                 std::cout << "wrote " << args.out << ": feature " << args.feature
                           << " (blue: normalised decoder norm, orange: frequency / max; x: log step)\n";
               });
}

}  // namespace

void add_plot_command(CLI::App& app, const CliContext& context, int* exit_code) {
  (void)exit_code;
  auto args = std::make_shared<PlotArgs>();  // owned by the callback, which the app keeps
  auto* plot = app.add_subcommand("plot", "write the feature-emergence heatmap (or one feature's trajectory) as PNG");
  plot->add_option("--run", args->run, "run id")->required();
  plot->add_option("--tap", args->tap, "tap (default: the run's only tap)");
  plot->add_option("--feature", args->feature, "plot this feature's trajectory instead");
  plot->add_option("--limit", args->limit, "at most this many features (rows)")->capture_default_str();
  plot->add_option("--out,-o", args->out, "PNG file")->capture_default_str();
  plot->callback([&context, args] {
    if (args->feature >= 0) {
      plot_feature(context, *args);
    } else {
      plot_heatmap(context, *args);
    }
  });
}

}  // namespace cw
