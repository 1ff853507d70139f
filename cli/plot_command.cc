#include "cli/plot_command.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/heatmap_figure.h"
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
// (orange) over snapshots, on a log-step axis.
void plot_feature(const CliContext& context, const PlotArgs& args) {
  nlohmann::json params = {{"run", args.run}, {"id", args.feature}};
  if (!args.tap.empty()) params["tap"] = args.tap;
  const nlohmann::json detail = ask(context, "feature", params).json;
  const auto& points = detail["trajectory"];
  const int width = 800, height = 400, margin = 30;
  PngImage image(width, height);
  image.fill(margin, height - margin, width - margin, height - margin + 1, {0, 0, 0});
  image.fill(margin, margin, margin + 1, height - margin, {0, 0, 0});
  double max_frequency = 0;
  for (const auto& p : points) max_frequency = std::max(max_frequency, p["frequency"].get<double>());
  const double x_max = std::log1p(double(points.back()["step"].get<uint64_t>()));
  auto x_of = [&](uint64_t step) { return margin + (width - 2 * margin) * std::log1p(double(step)) / std::max(1e-9, x_max); };
  auto y_of = [&](double v) { return height - margin - (height - 2 * margin) * std::clamp(v, 0.0, 1.0); };
  for (std::size_t i = 1; i < points.size(); ++i) {
    const auto& a = points[i - 1];
    const auto& b = points[i];
    image.line(x_of(a["step"]), y_of(a["normalised_norm"]), x_of(b["step"]), y_of(b["normalised_norm"]), {31, 119, 180});
    if (max_frequency > 0) {
      image.line(x_of(a["step"]), y_of(a["frequency"].get<double>() / max_frequency), x_of(b["step"]),
                 y_of(b["frequency"].get<double>() / max_frequency), {255, 127, 14});
    }
  }
  image.save(args.out);
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
