// A small RGB raster written as PNG (libpng): enough for heatmaps and line
// plots without a plotting library.
#ifndef CW_CLI_PNG_IMAGE_H_
#define CW_CLI_PNG_IMAGE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cw {

struct Rgb {
  uint8_t r = 255, g = 255, b = 255;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
};

// Perceptually ordered colour map (viridis) for a value in [0, 1].
Rgb viridis(double value);

class PngImage {
 public:
  PngImage(int width, int height, Rgb background = {});
  int width() const { return width_; }
  int height() const { return height_; }
  void fill(int x0, int y0, int x1, int y1, Rgb colour);  // [x0, x1) × [y0, y1), clipped
  void line(double x0, double y0, double x1, double y1, Rgb colour, int thickness = 2);
  Rgb at(int x, int y) const;  // requires 0 <= x < width, 0 <= y < height
  // Throws std::runtime_error naming the file on failure.
  void save(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace cw

#endif  // CW_CLI_PNG_IMAGE_H_
