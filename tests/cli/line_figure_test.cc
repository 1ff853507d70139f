// The feature-trajectory figure: where its axes, ticks, labels, title and
// legend land, checked on the pixels drawn (not just that a PNG was written).
#include "cli/line_figure.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cli/bitmap_font.h"
#include "cli/figure_axes.h"

namespace cw {
namespace {

const Rgb kBlack{0, 0, 0};
const Rgb kBlue{31, 119, 180}, kOrange{255, 127, 14};

// tinygpt's log-spaced schedule: 0, 1, 2, 4, ... 64, then every 20 to 1400.
LineFigure figure() {
  LineFigure f;
  f.title = "run tinygpt-repeat, tap blocks.1.resid_post, feature 17";
  f.y_label = "value (0 to 1)";
  for (uint64_t s : {0, 1, 2, 4, 8, 16, 32, 64}) f.steps.push_back(s);
  for (uint64_t s = 80; s <= 1400; s += 20) f.steps.push_back(s);
  LineSeries norm{"normalised decoder norm", kBlue, {}}, frequency{"frequency / max (0.031)", kOrange, {}};
  for (std::size_t i = 0; i < f.steps.size(); ++i) {
    norm.values.push_back(f.steps[i] < 200 ? 0.1 : 0.9);
    frequency.values.push_back(0.5);
  }
  f.lines = {norm, frequency};
  return f;
}

// Pixels of `colour` (black by default) in [x0, x1) × [y0, y1).
int ink(const PngImage& image, int x0, int y0, int x1, int y1, Rgb colour = kBlack) {
  int n = 0;
  for (int x = std::max(0, x0); x < std::min(x1, image.width()); ++x)
    for (int y = std::max(0, y0); y < std::min(y1, image.height()); ++y) n += image.at(x, y) == colour;
  return n;
}

TEST(LineFigure, AxesTicksLabelsTitleAndLegendAreDrawn) {
  const LineFigure f = figure();
  const LineLayout l = layout_line_figure(f);
  const PngImage image = draw_line_figure(f, l);
  ASSERT_EQ(image.width(), l.width);
  ASSERT_EQ(image.height(), l.height);
  const int th = text_height(kFigureTextScale);

  // Axis lines along the plot's left and bottom edges.
  for (int y = l.plot_y0; y <= l.plot_y1; y += 5) EXPECT_EQ(image.at(l.plot_x0 - 1, y), kBlack) << y;
  for (int x = l.plot_x0; x < l.plot_x1; x += 5) EXPECT_EQ(image.at(x, l.plot_y1), kBlack) << x;

  // A log axis: ticks at 0 and the decades up to the last step, each with
  // its label's ink under it; 10 lies far right of 1 and 1000 near the end.
  EXPECT_EQ(l.x_ticks, (std::vector<uint64_t>{0, 1, 10, 100, 1000}));
  for (uint64_t step : l.x_ticks) {
    const int x = l.x_of(step);
    EXPECT_EQ(image.at(x, l.plot_y1 + 3), kBlack) << step;
    const int w = text_width(std::to_string(step), kFigureTextScale);
    EXPECT_GT(ink(image, x - w / 2, x_tick_label_top(l.plot_y1), x + w / 2 + 1, x_tick_label_top(l.plot_y1) + th), 10)
        << "label of step " << step;
  }
  EXPECT_EQ(l.x_of(0), l.plot_x0);
  EXPECT_GT(l.x_of(10) - l.x_of(1), (l.plot_x1 - l.plot_x0) / 5);
  EXPECT_GT(l.x_of(1000), l.plot_x0 + (l.plot_x1 - l.plot_x0) * 9 / 10);
  EXPECT_EQ(l.x_of(1400), l.plot_x1 - 1);
  // No tick between the decades (at step 500, say).
  EXPECT_NE(image.at(l.x_of(500), l.plot_y1 + 3), kBlack);

  // y ticks 0, 0.5, 1 with labels left of the axis.
  for (double v : {0.0, 0.5, 1.0}) {
    EXPECT_EQ(image.at(l.plot_x0 - 3, l.y_of(v)), kBlack) << v;
    EXPECT_GT(ink(image, l.plot_x0 - 40, l.y_of(v) - th / 2, l.plot_x0 - 6, l.y_of(v) + th / 2 + 1), 5) << v;
  }
  // Axis labels: the x label under the tick labels, the y label upright in
  // the left margin.
  EXPECT_GT(ink(image, l.plot_x0, x_axis_label_top(l.plot_y1), l.plot_x1, x_axis_label_top(l.plot_y1) + th), 200);
  EXPECT_GT(ink(image, kFigurePad, l.plot_y0, kFigurePad + th, l.plot_y1), 100);

  // Title line and legend line above the plot.
  EXPECT_GT(ink(image, 0, kFigurePad, l.width, kFigurePad + th), 300);
  ASSERT_EQ(l.legend_x.size(), 2u);
  EXPECT_GT(l.legend_y, kFigurePad + th);
  EXPECT_LT(l.legend_y + th, l.plot_y0);
  const int swatch_y = l.legend_y + th / 2;
  EXPECT_EQ(image.at(l.legend_x[0] + kLegendSwatch / 2, swatch_y), kBlue);
  EXPECT_EQ(image.at(l.legend_x[1] + kLegendSwatch / 2, swatch_y), kOrange);
  for (std::size_t i = 0; i < 2; ++i) {
    const int label_x = l.legend_x[i] + kLegendSwatch;
    const int w = text_width(f.lines[i].label, kFigureTextScale);
    EXPECT_GT(ink(image, label_x, l.legend_y, label_x + w + kFigurePad, l.legend_y + th), 100) << f.lines[i].label;
  }
  EXPECT_GT(l.legend_x[1], l.legend_x[0] + text_width(f.lines[0].label, kFigureTextScale));

  // The lines themselves, inside the plot: orange at 0.5 throughout, blue
  // low before step 200 and high after.
  EXPECT_EQ(image.at(l.x_of(300), l.y_of(0.5)), kOrange);
  EXPECT_EQ(image.at(l.x_of(8), l.y_of(0.1)), kBlue);
  EXPECT_EQ(image.at(l.x_of(1000), l.y_of(0.9)), kBlue);
}

TEST(LineFigure, AShortRunLabelsItsLastStepAndMismatchedLinesAreRefused) {
  LineFigure f = figure();
  f.steps = {0, 2, 5};
  for (auto& line : f.lines) line.values = {0, 0.5, 1};
  const LineLayout l = layout_line_figure(f);
  EXPECT_EQ(l.x_ticks, (std::vector<uint64_t>{0, 1, 5}));
  EXPECT_EQ(draw_line_figure(f, l).width(), l.width);
  f.lines[1].values.pop_back();
  EXPECT_THROW(layout_line_figure(f), std::invalid_argument);
}

}  // namespace
}  // namespace cw
