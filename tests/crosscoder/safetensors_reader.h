// Test helper: one F32 tensor of a safetensors file as a torch tensor
// (tests/support/safetensors_file.h reads it, independently of the writer).
#ifndef CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_
#define CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_

#include <torch/types.h>

#include <string>

#include "tests/support/safetensors_file.h"

namespace cw {

inline torch::Tensor read_safetensor(const std::string& path, const std::string& name) {
  auto tensor = testing::read_f32_safetensor(path, name);
  return torch::from_blob(tensor.values.data(), tensor.shape, torch::kFloat32).clone();
}

}  // namespace cw

#endif  // CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_
