#include "cli/heatmap_figure.h"

#include <algorithm>
#include <stdexcept>

#include "cli/bitmap_font.h"
#include "cli/figure_axes.h"

namespace cw {
namespace {

// The figures' shared text scale, padding, tick length and ink (figure_axes.h).
constexpr int kScale = kFigureTextScale;
constexpr int kPad = kFigurePad;
constexpr int kTick = kFigureTick;
constexpr Rgb kInk = kFigureInk;
constexpr int kBarGap = 20, kBarWidth = 16;
constexpr int kTargetSize = 800;  // the grid's width and height, roughly
constexpr int kMaxTickLabels = 8;

const char* kXLabel = "training step (one column per snapshot)";
const char* kYLabel = "features, sorted by emergence step";
const char* kBarLabel = "normalised decoder norm";
const char* kBarTicks[] = {"1", "0.5", "0"};  // top to bottom

int th() { return text_height(kScale); }
int bar_tick_labels_x(const HeatmapLayout& l) { return l.bar_x1 + kTick + 3; }
int bar_label_x(const HeatmapLayout& l) { return bar_tick_labels_x(l) + text_width("0.5", kScale) + kPad; }

// The first and last column and, between them, columns at least `spacing`
// pixels from their labelled neighbours: at most a handful of labels that
// cannot overlap, wherever the log-spaced early snapshots fall.
std::vector<int> choose_tick_columns(const HeatmapLayout& l, const std::vector<uint64_t>& steps) {
  const int n = int(steps.size());
  int widest = 0;
  for (uint64_t step : steps) widest = std::max(widest, text_width(std::to_string(step), kScale));
  const int spacing = std::max((l.plot_x1 - l.plot_x0) / kMaxTickLabels, widest + 2 * kPad);
  std::vector<int> ticks = {0};
  for (int c = 1; c + 1 < n; ++c) {
    if (l.column_centre(c) - l.column_centre(ticks.back()) >= spacing &&
        l.column_centre(n - 1) - l.column_centre(c) >= spacing) {
      ticks.push_back(c);
    }
  }
  if (n > 1) ticks.push_back(n - 1);
  return ticks;
}

void draw_cells(PngImage& image, const HeatmapFigure& f, const HeatmapLayout& l) {
  for (std::size_t r = 0; r < f.rows.size(); ++r) {
    for (std::size_t c = 0; c < f.rows[r].size(); ++c) {
      const int x = l.plot_x0 + int(c) * l.cell_w, y = l.plot_y0 + int(r) * l.cell_h;
      image.fill(x, y, x + l.cell_w, y + l.cell_h, viridis(f.rows[r][c]));
    }
  }
}

void draw_axes(PngImage& image, const HeatmapFigure& f, const HeatmapLayout& l) {
  draw_axis_lines(image, l.plot_x0, l.plot_y0, l.plot_x1, l.plot_y1);
  for (int c : l.tick_columns) draw_x_tick(image, l.column_centre(c), l.plot_y1, std::to_string(f.steps[c]));
  draw_centred_text(image, (l.plot_x0 + l.plot_x1) / 2, x_axis_label_top(l.plot_y1), kXLabel);

  // Rows are ranks in emergence order: number the first and the last.
  const int rows = int(f.rows.size());
  for (int r : {0, rows - 1})
    draw_y_tick(image, l.plot_x0 - 1, l.plot_y0 + r * l.cell_h + l.cell_h / 2, std::to_string(r + 1));
  draw_vertical_label(image, kPad, (l.plot_y0 + l.plot_y1) / 2, kYLabel);
}

void draw_colour_bar(PngImage& image, const HeatmapLayout& l) {
  const int h = l.plot_y1 - l.plot_y0;
  for (int y = l.plot_y0; y < l.plot_y1; ++y) {
    image.fill(l.bar_x0, y, l.bar_x1, y + 1, viridis(1.0 - (y - l.plot_y0 + 0.5) / h));
  }
  image.fill(l.bar_x0 - 1, l.plot_y0 - 1, l.bar_x1 + 1, l.plot_y0, kInk);
  image.fill(l.bar_x0 - 1, l.plot_y1, l.bar_x1 + 1, l.plot_y1 + 1, kInk);
  image.fill(l.bar_x0 - 1, l.plot_y0, l.bar_x0, l.plot_y1, kInk);
  image.fill(l.bar_x1, l.plot_y0, l.bar_x1 + 1, l.plot_y1, kInk);
  for (int i = 0; i < 3; ++i) {
    const int y = std::min(l.plot_y0 + i * h / 2, l.plot_y1 - 1);
    image.fill(l.bar_x1 + 1, y, l.bar_x1 + 1 + kTick, y + 1, kInk);
    draw_text(image, bar_tick_labels_x(l), y - th() / 2, kBarTicks[i], kInk, kScale);
  }
  draw_vertical_label(image, bar_label_x(l), (l.plot_y0 + l.plot_y1) / 2, kBarLabel);
}

}  // namespace

HeatmapLayout layout_heatmap(const HeatmapFigure& f) {
  if (f.rows.empty() || f.steps.empty()) throw std::invalid_argument("heatmap: no features or no snapshots");
  for (const auto& row : f.rows) {
    if (row.size() != f.steps.size()) {
      throw std::invalid_argument("heatmap: a feature has " + std::to_string(row.size()) + " values for " +
                                  std::to_string(f.steps.size()) + " snapshots");
    }
  }
  const int cols = int(f.steps.size()), rows = int(f.rows.size());
  HeatmapLayout l;
  l.cell_w = std::max(4, kTargetSize / cols);
  // Tall enough for the vertical labels beside it.
  const int min_plot_h = std::max(text_width(kYLabel, kScale), text_width(kBarLabel, kScale)) + 2 * kPad;
  l.cell_h = std::max({1, std::min(8, kTargetSize / rows), (min_plot_h + rows - 1) / rows});
  l.plot_x0 = kPad + th() + kPad + y_tick_margin(text_width(std::to_string(rows), kScale));
  l.plot_y0 = kPad + th() + kPad;
  l.plot_x1 = l.plot_x0 + cols * l.cell_w;
  l.plot_y1 = l.plot_y0 + rows * l.cell_h;
  l.bar_x0 = l.plot_x1 + kBarGap;
  l.bar_x1 = l.bar_x0 + kBarWidth;
  l.width = std::max({bar_label_x(l) + th() + kPad, kPad + text_width(f.title, kScale) + kPad,
                      l.plot_x0 + text_width(kXLabel, kScale) + kPad});
  l.height = x_axis_label_top(l.plot_y1) + th() + kPad;
  l.tick_columns = choose_tick_columns(l, f.steps);
  return l;
}

PngImage draw_heatmap(const HeatmapFigure& f, const HeatmapLayout& l) {
  PngImage image(l.width, l.height);
  draw_cells(image, f, l);
  draw_axes(image, f, l);
  draw_colour_bar(image, l);
  draw_text(image, kPad, kPad, f.title, kInk, kScale);
  return image;
}

}  // namespace cw
