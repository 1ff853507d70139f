// A 5×7 bitmap font (digits, A–Z and a little punctuation) for labelling
// the PNG figures without a font library. Lowercase letters draw as
// uppercase; characters the font lacks draw as '?'.
#ifndef CW_CLI_BITMAP_FONT_H_
#define CW_CLI_BITMAP_FONT_H_

#include <array>
#include <cstdint>
#include <string>

#include "cli/png_image.h"

namespace cw {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kGlyphAdvance = 6;  // one column between characters

// The glyph's rows, top first; bit 4 is the leftmost pixel.
using Glyph = std::array<uint8_t, kGlyphHeight>;
const Glyph& glyph(char c);
bool has_glyph(char c);

// Pixels `text` spans along its baseline at `scale` (no trailing gap).
int text_width(const std::string& text, int scale);
inline int text_height(int scale) { return kGlyphHeight * scale; }

// Left to right, the top-left corner at (x, y); clipped at the image edges.
void draw_text(PngImage& image, int x, int y, const std::string& text, Rgb colour, int scale);
// Turned a quarter anticlockwise, reading upwards from its bottom-left
// corner at (x, y): for a vertical axis label.
void draw_text_up(PngImage& image, int x, int y, const std::string& text, Rgb colour, int scale);

}  // namespace cw

#endif  // CW_CLI_BITMAP_FONT_H_
