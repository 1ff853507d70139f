#include "schema/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace cw {
namespace {

TEST(DType, HalfRoundTripsEveryFiniteValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), uint16_t(h)) << "half bits " << h;
  }
}

TEST(DType, HalfKnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie rounds to even
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
}

TEST(DType, BFloatRoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(3.14159f)), 3.140625f);
}

TEST(DType, FindsNonFiniteInEveryType) {
  const float f32[] = {1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(first_non_finite(DType::kF32, f32, 3), 2);
  EXPECT_EQ(first_non_finite(DType::kF32, f32, 2), -1);
  const uint16_t f16[] = {0x3c00, 0x7c00};
  EXPECT_EQ(first_non_finite(DType::kF16, f16, 2), 1);
  const uint16_t bf16[] = {0x7fc0, 0x3f80};
  EXPECT_EQ(first_non_finite(DType::kBF16, bf16, 2), 0);
}

}  // namespace
}  // namespace cw
