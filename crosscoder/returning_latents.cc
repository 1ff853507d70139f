#include "crosscoder/returning_latents.h"

#include <algorithm>

namespace cw {

std::vector<ReturningLatent> returning_latents(const float* norms, int64_t T, int64_t F) {
  std::vector<ReturningLatent> out;
  for (int64_t i = 0; i < F; ++i) {
    float largest = 0;
    for (int64_t t = 0; t < T; ++t) largest = std::max(largest, norms[t * F + i]);
    if (!(largest > 0)) continue;
    const auto level = [&](int64_t t) { return norms[t * F + i] / largest; };
    bool on = false, was_on = false, went_off = false;
    int64_t before_peak = -1;
    for (int64_t t = 0; t < T; ++t) {
      const double v = level(t);
      if (!on && v >= kLatentOn) {
        if (went_off) {
          ReturningLatent r{i, before_peak, t, t};
          for (int64_t s = t; s < T && level(s) >= kLatentOff; ++s)
            if (level(s) > level(r.after_peak)) r.after_peak = s;
          out.push_back(r);
          break;
        }
        on = was_on = true;
      } else if (on && v < kLatentOff) {
        on = false;
        went_off = was_on;
      }
      if (on && (before_peak < 0 || v > level(before_peak))) before_peak = t;
    }
  }
  return out;
}

}  // namespace cw
