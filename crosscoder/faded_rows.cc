#include "crosscoder/faded_rows.h"

#include <algorithm>

namespace cw {

std::vector<FadedRow> faded_rows(const float* norms, int64_t T, int64_t F) {
  std::vector<float> largest(F, 0.0f);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) largest[i] = std::max(largest[i], norms[t * F + i]);
  std::vector<char> was_on(F, 0);
  std::vector<FadedRow> out;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) {
      const float norm = norms[t * F + i];
      if (!(largest[i] > 0)) continue;
      if (was_on[i] && norm > 0 && norm < kLatentOff * largest[i]) out.push_back({t, i});
      if (norm >= kLatentOn * largest[i]) was_on[i] = 1;
    }
  return out;
}

}  // namespace cw
