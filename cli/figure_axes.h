// What the PNG figures of `conceptwatch plot` share: the text scale, the
// padding and tick length, black ink, and the axis furniture (axis lines,
// labelled ticks, centred and vertical axis labels), so the heatmap and the
// feature trajectory look alike and their geometry is computed in one place.
#ifndef CW_CLI_FIGURE_AXES_H_
#define CW_CLI_FIGURE_AXES_H_

#include <string>

#include "cli/png_image.h"

namespace cw {

inline constexpr int kFigureTextScale = 2;  // 10 × 14 pixel characters
inline constexpr int kFigurePad = 10;       // around the figure and between its parts
inline constexpr int kFigureTick = 5;       // tick mark length
inline constexpr Rgb kFigureInk{0, 0, 0};

int figure_text_width(const std::string& text);  // at kFigureTextScale
int figure_text_height();

// The left (y) and bottom (x) axis lines of the plot area [x0, x1) × [y0, y1):
// one pixel outside it, at column x0 − 1 and row y1.
void draw_axis_lines(PngImage& image, int x0, int y0, int x1, int y1);

// A tick hanging below the x axis (row `axis_y`) at column x, its label
// centred under it. The label's top is x_tick_label_top(axis_y).
void draw_x_tick(PngImage& image, int x, int axis_y, const std::string& label);
int x_tick_label_top(int axis_y);
// Where an axis label under the x tick labels goes (its top row).
int x_axis_label_top(int axis_y);

// A tick left of the y axis (column `axis_x`) at row y, its label right-
// aligned before it and vertically centred on the tick.
void draw_y_tick(PngImage& image, int axis_x, int y, const std::string& label);
// Width the y ticks take left of the axis with labels up to `widest` pixels.
int y_tick_margin(int widest_label);

// Text centred on column `centre_x` (clipped to the left padding).
void draw_centred_text(PngImage& image, int centre_x, int y, const std::string& text);
// Text reading upwards at column x, centred on row `centre_y`.
void draw_vertical_label(PngImage& image, int x, int centre_y, const std::string& text);

}  // namespace cw

#endif  // CW_CLI_FIGURE_AXES_H_
