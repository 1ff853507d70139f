#include "cli/png_image.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace cw {

Rgb viridis(double value) {
  // Eight samples of matplotlib's viridis, interpolated linearly.
  static const double stops[8][3] = {{68, 1, 84},    {70, 50, 126},  {54, 92, 141},  {39, 127, 142},
                                     {31, 161, 135}, {74, 193, 109}, {160, 218, 57}, {253, 231, 37}};
  const double x = std::clamp(value, 0.0, 1.0) * 7;
  const int i = std::min(int(x), 6);
  const double t = x - i;
  auto mix = [&](int c) { return uint8_t(std::lround(stops[i][c] * (1 - t) + stops[i + 1][c] * t)); };
  return {mix(0), mix(1), mix(2)};
}

PngImage::PngImage(int width, int height, Rgb background)
    : width_(width), height_(height), pixels_(std::size_t(width) * height * 3) {
  fill(0, 0, width, height, background);
}

void PngImage::fill(int x0, int y0, int x1, int y1, Rgb colour) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, width_);
  y1 = std::min(y1, height_);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      uint8_t* p = &pixels_[(std::size_t(y) * width_ + x) * 3];
      p[0] = colour.r;
      p[1] = colour.g;
      p[2] = colour.b;
    }
  }
}

void PngImage::line(double x0, double y0, double x1, double y1, Rgb colour, int thickness) {
  const int steps = int(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = double(i) / steps;
    const int x = int(std::lround(x0 + (x1 - x0) * t)), y = int(std::lround(y0 + (y1 - y0) * t));
    fill(x - thickness / 2, y - thickness / 2, x - thickness / 2 + thickness, y - thickness / 2 + thickness, colour);
  }
}

Rgb PngImage::at(int x, int y) const {
  const uint8_t* p = &pixels_[(std::size_t(y) * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void PngImage::save(const std::string& path) const {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write '" + path + "'");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    throw std::runtime_error("libpng failed writing '" + path + "'");
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, width_, height_, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height_; ++y) png_write_row(png, const_cast<uint8_t*>(&pixels_[std::size_t(y) * width_ * 3]));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

}  // namespace cw
