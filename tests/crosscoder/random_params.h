// Test helper: random crosscoder parameters in the training step's layout
// (crosscoder/training_step.h), and a parameter-by-parameter comparison.
#ifndef CW_TESTS_CROSSCODER_RANDOM_PARAMS_H_
#define CW_TESTS_CROSSCODER_RANDOM_PARAMS_H_

#include <gtest/gtest.h>

#include "crosscoder/training_step.h"

namespace cw {

// Scaled so that a test batch puts gate pairs open, closed and inside the
// threshold's window.
inline CrosscoderParams random_params(int64_t T, int64_t d, int64_t F, torch::Dtype dtype, uint64_t seed) {
  torch::manual_seed(seed);
  auto o = torch::TensorOptions().dtype(dtype);
  CrosscoderParams p;
  p.w_enc = torch::randn({F, T * d}, o) * 0.5;
  p.w_dec = torch::randn({T, F, d}, o) * 0.4;
  p.b_enc = torch::randn({T, F}, o) * 0.1;
  p.b_dec = torch::randn({T, d}, o) * 0.1;
  p.log_tau = torch::log(torch::rand({F}, o) * 0.5 + 0.05);
  return p;
}

// Every parameter of `a` within atol + rtol × max |b| of `b`'s.
inline void expect_close(const CrosscoderParams& a, const CrosscoderParams& b, double rtol, double atol) {
  auto pa = const_cast<CrosscoderParams&>(a).all(), pb = const_cast<CrosscoderParams&>(b).all();
  const char* names[] = {"w_enc", "w_dec", "b_enc", "b_dec", "log_tau"};
  for (size_t k = 0; k < pa.size(); ++k) {
    const double err = (*pa[k] - *pb[k]).abs().max().item<double>();
    const double scale = pb[k]->abs().max().item<double>();
    EXPECT_LE(err, atol + rtol * scale) << names[k] << " differs: max abs error " << err << " (scale " << scale << ")";
  }
}

}  // namespace cw

#endif  // CW_TESTS_CROSSCODER_RANDOM_PARAMS_H_
