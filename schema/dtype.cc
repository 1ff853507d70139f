#include "schema/dtype.h"

#include <cstring>

namespace cw {

std::size_t dtype_size(DType dtype) { return dtype == DType::kF32 ? 4 : 2; }

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
  }
  return "?";
}

std::optional<DType> parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32" || name == "fp32") return DType::kF32;
  if (name == "f16" || name == "float16" || name == "fp16") return DType::kF16;
  if (name == "bf16" || name == "bfloat16") return DType::kBF16;
  return std::nullopt;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int shift = 0;
      while ((mantissa & 0x400) == 0) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3ff;
      bits = sign | uint32_t(127 - 15 - shift + 1) << 23 | (mantissa << 13);
    }
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00;         // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00;        // overflow to infinity
  if (abs < 0x38800000u) {                             // subnormal or zero in f16
    if (abs < 0x33000000u) return sign;
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exponent;             // 14 + (112 - exponent)
    uint32_t half = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1))) ++half;
    return sign | uint16_t(half);
  }
  uint32_t half = ((abs - 0x38000000u) >> 13);
  const uint32_t rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return sign | uint16_t(half);
}

void to_f32(DType dtype, const void* src, std::size_t count, float* dst) {
  if (dtype == DType::kF32) {
    std::memcpy(dst, src, count * 4);
    return;
  }
  const auto* in = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < count; ++i) {
    uint16_t v;
    std::memcpy(&v, in + 2 * i, 2);
    dst[i] = dtype == DType::kF16 ? f16_to_f32(v) : bf16_to_f32(v);
  }
}

int64_t first_non_finite(DType dtype, const void* data, std::size_t count) {
  const auto* in = static_cast<const unsigned char*>(data);
  if (dtype == DType::kF32) {
    for (std::size_t i = 0; i < count; ++i) {
      uint32_t v;
      std::memcpy(&v, in + 4 * i, 4);
      if ((v & 0x7f800000u) == 0x7f800000u) return int64_t(i);
    }
    return -1;
  }
  const uint16_t exponent_mask = dtype == DType::kF16 ? 0x7c00 : 0x7f80;
  for (std::size_t i = 0; i < count; ++i) {
    uint16_t v;
    std::memcpy(&v, in + 2 * i, 2);
    if ((v & exponent_mask) == exponent_mask) return int64_t(i);
  }
  return -1;
}

}  // namespace cw
