// Test helper: reads one F32 tensor from a file written by
// Crosscoder::export_safetensors (independently of the writer's code).
#ifndef CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_
#define CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cw {

inline torch::Tensor read_safetensor(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  uint64_t len = 0;
  in.read(reinterpret_cast<char*>(&len), 8);
  std::string header(len, ' ');
  in.read(header.data(), static_cast<std::streamsize>(len));
  const auto j = nlohmann::json::parse(header).at(name);
  EXPECT_EQ(j.at("dtype"), "F32");
  const auto shape = j.at("shape").get<std::vector<int64_t>>();
  const auto off = j.at("data_offsets").get<std::vector<uint64_t>>();
  std::vector<float> data((off[1] - off[0]) / 4);
  in.seekg(static_cast<std::streamoff>(8 + len + off[0]));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(off[1] - off[0]));
  return torch::from_blob(data.data(), shape, torch::kFloat32).clone();
}

}  // namespace cw

#endif  // CW_TESTS_CROSSCODER_SAFETENSORS_READER_H_
