// The torch-free safetensors reader and writer: a round trip, a file an
// independent reader (tests/support/safetensors_file.h) opens, and a
// refusal with a reason for each kind of damage.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "safetensors/safetensors.h"
#include "tests/support/safetensors_file.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

struct Sample {
  std::vector<float> weights = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  std::vector<int64_t> steps = {100, 200, -3};
  std::vector<TensorView> views() const {
    return {{"weights", TensorDtype::kF32, {2, 3}, reinterpret_cast<const char*>(weights.data())},
            {"steps", TensorDtype::kI64, {3}, reinterpret_cast<const char*>(steps.data())}};
  }
};

template <typename T>
std::vector<T> values(const TensorView& view) {
  std::vector<T> out(view.size_bytes() / sizeof(T));
  std::memcpy(out.data(), view.data, view.size_bytes());
  return out;
}

TEST(Safetensors, RoundTripKeepsNamesShapesValuesAndMetadata) {
  const Sample sample;
  const std::string bytes = encode_safetensors(sample.views(), {{"version", "3"}});
  const auto file = parse_safetensors(bytes);
  EXPECT_EQ(file.metadata.at("version"), "3");
  ASSERT_EQ(file.tensors.size(), 2u);
  EXPECT_EQ(file.tensors[0].name, "weights");  // in the order of their bytes
  EXPECT_EQ(file.at("weights").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values<float>(file.at("weights")), sample.weights);
  EXPECT_EQ(values<int64_t>(file.at("steps")), sample.steps);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);  // the data starts 8-byte aligned
  EXPECT_THROW(file.at("missing"), std::invalid_argument);
}

TEST(Safetensors, AnIndependentReaderOpensTheFile) {
  const Sample sample;
  testing::TempDir dir;
  const std::string path = dir.path() + "/sample.safetensors";
  std::ofstream(path, std::ios::binary) << encode_safetensors(sample.views());
  const auto weights = testing::read_f32_safetensor(path, "weights");
  EXPECT_EQ(weights.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(weights.values, sample.weights);
}

TEST(Safetensors, RefusesDamagedFilesWithAReason) {
  const Sample sample;
  const std::string bytes = encode_safetensors(sample.views());
  auto refusal = [](const std::string& damaged) {
    try {
      parse_safetensors(damaged);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal(bytes.substr(0, 5)).find("shorter than"), std::string::npos);
  EXPECT_NE(refusal(bytes.substr(0, bytes.size() - 8)).find("outside the file"), std::string::npos);
  EXPECT_NE(refusal(bytes + "extra!!!").find("after the last tensor"), std::string::npos);
  std::string not_json = bytes;
  not_json[8] = '[';
  EXPECT_NE(refusal(not_json).find("not JSON"), std::string::npos);
  std::string long_header = bytes;
  long_header[7] = 0x7f;
  EXPECT_NE(refusal(long_header).find("does not fit"), std::string::npos);
  // An F16 tensor: valid safetensors, a dtype this reader does not keep.
  std::string f16 = bytes;
  f16.replace(f16.find("\"F32\""), 5, "\"F16\"");
  EXPECT_NE(refusal(f16).find("dtype F16"), std::string::npos);
  const std::vector<TensorView> twice = {sample.views()[0], sample.views()[0]};
  EXPECT_THROW(encode_safetensors(twice), std::invalid_argument);
}

}  // namespace
}  // namespace cw
