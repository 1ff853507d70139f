#include "crosscoder/held_out_rows.h"

namespace cw {

namespace {

// SplitMix64's finaliser: consecutive indices map to unrelated values.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

bool is_held_out_row(int64_t row, int64_t every) {
  return every > 1 && mix(static_cast<uint64_t>(row)) % static_cast<uint64_t>(every) == 0;
}

int64_t effective_hold_out_every(int64_t n_rows, int64_t every) {
  return every >= 2 && n_rows >= 16 * every ? every : 0;
}

}  // namespace cw
