#include "cli/heatmap_figure.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cli/bitmap_font.h"

namespace cw {
namespace {

const Rgb kBlack{0, 0, 0};

// A log-spaced schedule like tinygpt's: 0, 1, 2, 4, ... 64, then every 20.
HeatmapFigure figure(int rows) {
  HeatmapFigure f;
  f.title = "run tinygpt-repeat, tap blocks.1.resid_post";
  for (uint64_t s : {0, 1, 2, 4, 8, 16, 32, 64}) f.steps.push_back(s);
  for (uint64_t s = 80; s <= 1400; s += 20) f.steps.push_back(s);
  for (int r = 0; r < rows; ++r) {
    std::vector<double> row;
    for (std::size_t c = 0; c < f.steps.size(); ++c) row.push_back(double(c) / double(f.steps.size() - 1));
    f.rows.push_back(row);
  }
  return f;
}

TEST(HeatmapFigure, MarginsHoldAxesColourBarAndTitle) {
  const HeatmapFigure f = figure(120);
  const HeatmapLayout l = layout_heatmap(f);
  const PngImage image = draw_heatmap(f, l);
  EXPECT_EQ(image.width(), l.width);
  EXPECT_EQ(image.height(), l.height);
  // The grid keeps its cells; labels and the colour bar live in the margins.
  EXPECT_EQ(l.plot_x1 - l.plot_x0, int(f.steps.size()) * l.cell_w);
  EXPECT_EQ(l.plot_y1 - l.plot_y0, int(f.rows.size()) * l.cell_h);
  EXPECT_GT(l.plot_x0, text_height(2));  // room for the vertical y label
  EXPECT_GT(l.plot_y0, text_height(2));  // the title line
  EXPECT_GT(l.height - l.plot_y1, 2 * text_height(2));  // tick labels and the x label
  EXPECT_GT(l.bar_x0, l.plot_x1);
  EXPECT_LT(l.bar_x1, l.width);

  // Axis lines along the grid's left and bottom edges.
  for (int y = l.plot_y0; y <= l.plot_y1; y += 7) EXPECT_EQ(image.at(l.plot_x0 - 1, y), kBlack) << y;
  for (int x = l.plot_x0; x < l.plot_x1; x += 7) EXPECT_EQ(image.at(x, l.plot_y1), kBlack) << x;
  // Cells: the first column is viridis(0), the last viridis(1).
  EXPECT_EQ(image.at(l.plot_x0, l.plot_y0), viridis(0));
  EXPECT_EQ(image.at(l.plot_x1 - 1, l.plot_y1 - 1), viridis(1));
  // The colour bar runs from 1 at the top to 0 at the bottom.
  EXPECT_EQ(image.at(l.bar_x0 + 1, l.plot_y0), viridis(1.0 - 0.5 / (l.plot_y1 - l.plot_y0)));
  EXPECT_EQ(image.at(l.bar_x0 + 1, l.plot_y1 - 1), viridis(0.5 / (l.plot_y1 - l.plot_y0)));
  // Some ink in the title line.
  int ink = 0;
  for (int x = 0; x < l.width; ++x) {
    for (int y = 0; y < l.plot_y0 - 2; ++y) ink += image.at(x, y) == kBlack;
  }
  EXPECT_GT(ink, 100);
}

TEST(HeatmapFigure, TicksSitUnderTheirColumnsAndLabelsDoNotOverlap) {
  const HeatmapFigure f = figure(40);
  const HeatmapLayout l = layout_heatmap(f);
  const PngImage image = draw_heatmap(f, l);
  ASSERT_GE(l.tick_columns.size(), 3u);
  EXPECT_LE(l.tick_columns.size(), 9u);  // a handful
  EXPECT_EQ(l.tick_columns.front(), 0);
  EXPECT_EQ(l.tick_columns.back(), int(f.steps.size()) - 1);
  const std::set<int> ticks(l.tick_columns.begin(), l.tick_columns.end());
  for (int c = 0; c < int(f.steps.size()); ++c) {
    // Tick marks hang below the axis at the column's centre, and only there.
    EXPECT_EQ(image.at(l.column_centre(c), l.plot_y1 + 3) == kBlack, ticks.count(c) > 0) << "column " << c;
    EXPECT_GE(l.column_centre(c), l.plot_x0 + c * l.cell_w);
    EXPECT_LT(l.column_centre(c), l.plot_x0 + (c + 1) * l.cell_w);
  }
  for (std::size_t i = 1; i < l.tick_columns.size(); ++i) {
    const auto left = std::to_string(f.steps[l.tick_columns[i - 1]]);
    const auto right = std::to_string(f.steps[l.tick_columns[i]]);
    const int gap = l.column_centre(l.tick_columns[i]) - l.column_centre(l.tick_columns[i - 1]);
    EXPECT_GT(gap, (text_width(left, 2) + text_width(right, 2)) / 2) << left << " and " << right;
  }
}

TEST(HeatmapFigure, FewFeaturesStillLeaveRoomForTheVerticalLabels) {
  const HeatmapFigure f = figure(3);
  const HeatmapLayout l = layout_heatmap(f);
  EXPECT_GE(l.plot_y1 - l.plot_y0, text_width("features, sorted by emergence step", 2));
  EXPECT_EQ(draw_heatmap(f, l).height(), l.height);
}

TEST(HeatmapFigure, RaggedRowsAreRefused) {
  HeatmapFigure f = figure(2);
  f.rows[1].pop_back();
  EXPECT_THROW(layout_heatmap(f), std::invalid_argument);
}

TEST(BitmapFont, CoversWhatTheFiguresWriteAndDrawsUpwards) {
  for (char c : std::string("0123456789 abcdefghijklmnopqrstuvwxyz.,:-/()_=+%<>'")) EXPECT_TRUE(has_glyph(c)) << c;
  EXPECT_FALSE(has_glyph('@'));
  EXPECT_EQ(glyph('@'), glyph('?'));
  EXPECT_EQ(text_width("", 2), 0);
  EXPECT_EQ(text_width("10", 1), 11);
  // "1" has ink in its bottom row's three middle pixels (0x0E): drawn
  // upwards, that row becomes the rightmost column.
  PngImage up(20, 20);
  draw_text_up(up, 0, 10, "1", kBlack, 1);
  for (int y = 10 - 4; y < 10 - 1; ++y) EXPECT_EQ(up.at(6, y), kBlack) << y;
  EXPECT_NE(up.at(6, 9), kBlack);
}

}  // namespace
}  // namespace cw
