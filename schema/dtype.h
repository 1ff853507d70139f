// Element types on the wire and their conversion to float.
#ifndef CW_SCHEMA_DTYPE_H_
#define CW_SCHEMA_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace cw {

enum class DType : uint8_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
// Parses "f32"/"float32", "f16"/"float16", "bf16"/"bfloat16".
std::optional<DType> parse_dtype(const std::string& name);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_f16(float f);   // round to nearest even
uint16_t f32_to_bf16(float f);  // round to nearest even

// Converts `count` elements of `dtype` at `src` to float.
void to_f32(DType dtype, const void* src, std::size_t count, float* dst);

// Index of the first NaN or infinity among `count` elements, or -1.
// Works on the raw bit patterns so that no conversion is needed.
int64_t first_non_finite(DType dtype, const void* data, std::size_t count);

}  // namespace cw

#endif  // CW_SCHEMA_DTYPE_H_
