#include "cli/line_figure.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cli/bitmap_font.h"
#include "cli/figure_axes.h"

namespace cw {
namespace {

constexpr int kPlotWidth = 720, kPlotHeight = 320;
constexpr int kLegendGap = 30;  // between one legend entry and the next
const char* kYTicks[] = {"0", "0.5", "1"};

int th() { return figure_text_height(); }

// 0 and every power of ten up to `last`: a log axis reads best at decades,
// and snapshots are log-spaced, so these sit where the data is dense.
std::vector<uint64_t> decade_ticks(uint64_t last) {
  std::vector<uint64_t> ticks = {0};
  for (uint64_t decade = 1; decade <= last; decade *= 10) {
    ticks.push_back(decade);
    if (decade > UINT64_MAX / 10) break;
  }
  if (ticks.size() < 3 && ticks.back() != last) ticks.push_back(last);  // a short run: label its end too
  return ticks;
}

void draw_lines(PngImage& image, const LineFigure& f, const LineLayout& l) {
  for (const LineSeries& line : f.lines) {
    for (std::size_t i = 1; i < f.steps.size(); ++i)
      image.line(l.x_of(f.steps[i - 1]), l.y_of(line.values[i - 1]), l.x_of(f.steps[i]), l.y_of(line.values[i]),
                 line.colour);
    if (f.steps.size() == 1) image.fill(l.x_of(f.steps[0]) - 2, l.y_of(line.values[0]) - 2,
                                        l.x_of(f.steps[0]) + 2, l.y_of(line.values[0]) + 2, line.colour);
  }
}

void draw_legend(PngImage& image, const LineFigure& f, const LineLayout& l) {
  const int mid = l.legend_y + th() / 2;
  for (std::size_t i = 0; i < f.lines.size(); ++i) {
    image.fill(l.legend_x[i], mid - 1, l.legend_x[i] + kLegendSwatch, mid + 2, f.lines[i].colour);
    draw_text(image, l.legend_x[i] + kLegendSwatch + kFigurePad / 2, l.legend_y, f.lines[i].label, kFigureInk,
              kFigureTextScale);
  }
}

}  // namespace

int LineLayout::x_of(uint64_t step) const {
  return plot_x0 + int(std::lround((plot_x1 - 1 - plot_x0) * std::log1p(double(step)) / log_max));
}

int LineLayout::y_of(double value) const {
  return plot_y1 - 1 - int(std::lround((plot_y1 - 1 - plot_y0) * std::clamp(value, 0.0, 1.0)));
}

LineLayout layout_line_figure(const LineFigure& f) {
  if (f.steps.empty() || f.lines.empty()) throw std::invalid_argument("line figure: no steps or no lines");
  for (const auto& line : f.lines) {
    if (line.values.size() != f.steps.size())
      throw std::invalid_argument("line figure: '" + line.label + "' has " + std::to_string(line.values.size()) +
                                  " values for " + std::to_string(f.steps.size()) + " steps");
  }
  LineLayout l;
  l.x_ticks = decade_ticks(f.steps.back());
  l.log_max = std::max(1e-9, std::log1p(double(std::max(f.steps.back(), l.x_ticks.back()))));
  l.legend_y = kFigurePad + th() + kFigurePad;
  int x = kFigurePad + th() + kFigurePad + y_tick_margin(figure_text_width("0.5"));
  l.plot_x0 = x;
  for (const auto& line : f.lines) {
    l.legend_x.push_back(x);
    x += kLegendSwatch + kFigurePad / 2 + figure_text_width(line.label) + kLegendGap;
  }
  l.plot_y0 = l.legend_y + th() + 2 * kFigurePad;
  l.plot_x1 = l.plot_x0 + kPlotWidth;
  // Tall enough for the vertical y label.
  l.plot_y1 = l.plot_y0 + std::max(kPlotHeight, figure_text_width(f.y_label) + 2 * kFigurePad);
  // Half the last tick label may hang past the plot's right edge.
  const int last_label = figure_text_width(std::to_string(l.x_ticks.back()));
  l.width = std::max({l.plot_x1 + last_label / 2 + kFigurePad, x - kLegendGap + kFigurePad,
                      kFigurePad + figure_text_width(f.title) + kFigurePad});
  l.height = x_axis_label_top(l.plot_y1) + th() + kFigurePad;
  return l;
}

PngImage draw_line_figure(const LineFigure& f, const LineLayout& l) {
  PngImage image(l.width, l.height);
  draw_lines(image, f, l);
  draw_axis_lines(image, l.plot_x0, l.plot_y0, l.plot_x1, l.plot_y1);
  for (uint64_t step : l.x_ticks) draw_x_tick(image, l.x_of(step), l.plot_y1, std::to_string(step));
  draw_centred_text(image, (l.plot_x0 + l.plot_x1) / 2, x_axis_label_top(l.plot_y1), kLogStepAxisLabel);
  for (int i = 0; i < 3; ++i) draw_y_tick(image, l.plot_x0 - 1, l.y_of(0.5 * i), kYTicks[i]);
  draw_vertical_label(image, kFigurePad, (l.plot_y0 + l.plot_y1) / 2, f.y_label);
  draw_legend(image, f, l);
  draw_text(image, kFigurePad, kFigurePad, f.title, kFigureInk, kFigureTextScale);
  return image;
}

}  // namespace cw
