// Decoder-norm tables for the torch-free moves that read presence from the
// norms (crosscoder/returning_latents.h, crosscoder/faded_rows.h): written
// one profile per latent, stored head-major as those functions read them.
#ifndef CW_TESTS_CROSSCODER_NORM_PROFILES_H_
#define CW_TESTS_CROSSCODER_NORM_PROFILES_H_

#include <cstddef>
#include <vector>

namespace cw {

// [T × F] head-major from one profile (T norms) per latent.
inline std::vector<float> head_major(const std::vector<std::vector<float>>& per_latent) {
  const std::size_t F = per_latent.size(), T = per_latent[0].size();
  std::vector<float> out(T * F);
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t t = 0; t < T; ++t) out[t * F + i] = per_latent[i][t];
  return out;
}

}  // namespace cw

#endif  // CW_TESTS_CROSSCODER_NORM_PROFILES_H_
