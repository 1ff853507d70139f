#include "cli/figure_axes.h"

#include <algorithm>

#include "cli/bitmap_font.h"

namespace cw {

int figure_text_width(const std::string& text) { return text_width(text, kFigureTextScale); }
int figure_text_height() { return text_height(kFigureTextScale); }

void draw_axis_lines(PngImage& image, int x0, int y0, int x1, int y1) {
  image.fill(x0 - 1, y0, x0, y1 + 1, kFigureInk);  // y axis
  image.fill(x0 - 1, y1, x1, y1 + 1, kFigureInk);  // x axis
}

int x_tick_label_top(int axis_y) { return axis_y + 1 + kFigureTick + 3; }
int x_axis_label_top(int axis_y) { return x_tick_label_top(axis_y) + figure_text_height() + kFigurePad; }

void draw_x_tick(PngImage& image, int x, int axis_y, const std::string& label) {
  image.fill(x, axis_y + 1, x + 1, axis_y + 1 + kFigureTick, kFigureInk);
  draw_text(image, x - figure_text_width(label) / 2, x_tick_label_top(axis_y), label, kFigureInk, kFigureTextScale);
}

int y_tick_margin(int widest_label) { return widest_label + 3 + kFigureTick + 1; }

void draw_y_tick(PngImage& image, int axis_x, int y, const std::string& label) {
  image.fill(axis_x - kFigureTick, y, axis_x, y + 1, kFigureInk);
  draw_text(image, axis_x - kFigureTick - 3 - figure_text_width(label), y - figure_text_height() / 2, label,
            kFigureInk, kFigureTextScale);
}

void draw_centred_text(PngImage& image, int centre_x, int y, const std::string& text) {
  draw_text(image, std::max(kFigurePad, centre_x - figure_text_width(text) / 2), y, text, kFigureInk,
            kFigureTextScale);
}

void draw_vertical_label(PngImage& image, int x, int centre_y, const std::string& text) {
  draw_text_up(image, x, centre_y + figure_text_width(text) / 2, text, kFigureInk, kFigureTextScale);
}

}  // namespace cw
