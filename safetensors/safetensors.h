// Reading and writing the safetensors format (https://huggingface.co/docs/
// safetensors): u64 little-endian header length | JSON header naming each
// tensor's dtype, shape and byte range | the tensors' bytes, row-major,
// little-endian. Torch-free, so that the CLI reads and writes crosscoder
// states and exports without LibTorch (docs/STORE.md says why this format).
//
// Tensors are views: writing copies from the caller's buffers, reading
// points into the caller's bytes (which must outlive the view; they need
// not be aligned, so copy with memcpy, never cast).
#ifndef CW_SAFETENSORS_SAFETENSORS_H_
#define CW_SAFETENSORS_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cw {

// The dtypes the crosscoder stores (safetensors' names: "F32", "F64", "I64").
enum class TensorDtype { kF32, kF64, kI64 };

std::size_t element_size(TensorDtype dtype);

struct TensorView {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;
  const char* data = nullptr;  // element_size(dtype) × Π shape bytes
  std::size_t size_bytes() const;
};

struct SafetensorsContents {
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"
  std::vector<TensorView> tensors;               // in the order of their bytes
  // Throws std::invalid_argument naming the tensor when there is none.
  const TensorView& at(const std::string& name) const;
};

// Writes the tensors in the given order (the header padded with spaces to
// a multiple of 8 bytes, as the reference writer does). Throws
// std::invalid_argument on a duplicate or empty name.
void write_safetensors(std::ostream& out, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
std::string encode_safetensors(const std::vector<TensorView>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

// Parses `bytes` (views into them). Throws std::invalid_argument with what
// is wrong: a truncated file, a header that is not JSON, an unknown dtype,
// a byte range that does not match its shape or leaves the buffer.
SafetensorsContents parse_safetensors(std::string_view bytes);

}  // namespace cw

#endif  // CW_SAFETENSORS_SAFETENSORS_H_
