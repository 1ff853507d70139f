// The features × snapshots figure of `conceptwatch plot`: one cell per
// feature and snapshot coloured by normalised decoder norm, x-axis ticks
// labelled with training steps, the y-axis label, a colour bar with its
// 0..1 scale and a title line. Layout and drawing are separate so that
// tests can check where things land.
#ifndef CW_CLI_HEATMAP_FIGURE_H_
#define CW_CLI_HEATMAP_FIGURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/png_image.h"

namespace cw {

struct HeatmapFigure {
  std::string title;
  std::vector<uint64_t> steps;            // one per column, ascending
  std::vector<std::vector<double>> rows;  // [feature][column], values in [0, 1]
};

struct HeatmapLayout {
  int width = 0, height = 0;  // the whole image
  int cell_w = 0, cell_h = 0;
  int plot_x0 = 0, plot_y0 = 0, plot_x1 = 0, plot_y1 = 0;  // the cell grid, [x0, x1) × [y0, y1)
  int bar_x0 = 0, bar_x1 = 0;                               // the colour bar, same rows as the grid
  std::vector<int> tick_columns;  // columns whose step is labelled: the first, the last, a handful between

  int column_centre(int column) const { return plot_x0 + column * cell_w + cell_w / 2; }
};

// Throws std::invalid_argument for an empty figure or ragged rows.
HeatmapLayout layout_heatmap(const HeatmapFigure& figure);
PngImage draw_heatmap(const HeatmapFigure& figure, const HeatmapLayout& layout);

}  // namespace cw

#endif  // CW_CLI_HEATMAP_FIGURE_H_
