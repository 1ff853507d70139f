// One feature's trajectory as `conceptwatch plot --feature` draws it: lines
// over training steps on a log-step axis (x = log(1 + step), ticks at 0 and
// the powers of ten), values in [0, 1] on the y axis (ticks 0, 0.5, 1), axis
// labels, a title line, and a legend line under the title naming each line
// by a swatch of its colour. Layout and drawing are separate so that tests
// can check where things land.
#ifndef CW_CLI_LINE_FIGURE_H_
#define CW_CLI_LINE_FIGURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/png_image.h"

namespace cw {

struct LineSeries {
  std::string label;           // in the legend
  Rgb colour;
  std::vector<double> values;  // one per step, clamped to [0, 1]
};

struct LineFigure {
  std::string title;
  std::string y_label = "value";
  std::vector<uint64_t> steps;  // ascending
  std::vector<LineSeries> lines;
};

struct LineLayout {
  int width = 0, height = 0;
  int plot_x0 = 0, plot_y0 = 0, plot_x1 = 0, plot_y1 = 0;  // the plot area [x0, x1) × [y0, y1)
  int legend_y = 0;                 // top row of the legend line
  std::vector<int> legend_x;        // left column of each line's swatch
  std::vector<uint64_t> x_ticks;    // labelled steps: 0 (if in range) and powers of ten up to the last step
  double log_max = 1;               // log(1 + last step)

  int x_of(uint64_t step) const;    // column of a step
  int y_of(double value) const;     // row of a value in [0, 1]
};

inline constexpr int kLegendSwatch = 24;  // pixels of line drawn before each legend label
inline constexpr const char* kLogStepAxisLabel = "training step (log scale)";

// Throws std::invalid_argument for no steps, no lines or a line whose
// length differs from the steps'.
LineLayout layout_line_figure(const LineFigure& figure);
PngImage draw_line_figure(const LineFigure& figure, const LineLayout& layout);

}  // namespace cw

#endif  // CW_CLI_LINE_FIGURE_H_
