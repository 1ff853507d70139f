#include "tests/support/safetensors_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace cw::testing {

F32Tensor read_f32_safetensor(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  uint64_t length = 0;  // little-endian header length, then the JSON header
  in.read(reinterpret_cast<char*>(&length), 8);
  std::string header(length, ' ');
  in.read(header.data(), std::streamsize(length));
  const auto all = nlohmann::json::parse(header);
  if (!all.contains(name)) throw std::runtime_error(path + " has no tensor '" + name + "'");
  const auto& entry = all.at(name);
  if (entry.at("dtype") != "F32") throw std::runtime_error(name + " is not F32");
  F32Tensor tensor;
  tensor.shape = entry.at("shape").get<std::vector<int64_t>>();
  const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
  tensor.values.resize((offsets[1] - offsets[0]) / sizeof(float));
  in.seekg(std::streamoff(8 + length + offsets[0]));
  in.read(reinterpret_cast<char*>(tensor.values.data()), std::streamsize(offsets[1] - offsets[0]));
  if (!in) throw std::runtime_error(path + ": tensor '" + name + "' is cut short");
  return tensor;
}

}  // namespace cw::testing
