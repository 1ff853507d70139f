// Test helper: reads one F32 tensor from a safetensors file (as
// Crosscoder::export_safetensors writes it), independently of the writer's
// code and without torch.
#ifndef CW_TESTS_SUPPORT_SAFETENSORS_FILE_H_
#define CW_TESTS_SUPPORT_SAFETENSORS_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cw::testing {

struct F32Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major
};

// Throws std::runtime_error if the file or the tensor is missing, or the
// tensor is not F32.
F32Tensor read_f32_safetensor(const std::string& path, const std::string& name);

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_SAFETENSORS_FILE_H_
