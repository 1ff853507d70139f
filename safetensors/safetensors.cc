#include "safetensors/safetensors.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace cw {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors is little-endian; this reader copies bytes as they are");

// The reference implementation refuses larger headers (a damaged length
// would otherwise make us allocate gigabytes before failing).
constexpr uint64_t kMaxHeaderBytes = 100 << 20;

const char* dtype_name(TensorDtype dtype) {
  switch (dtype) {
    case TensorDtype::kF32: return "F32";
    case TensorDtype::kF64: return "F64";
    case TensorDtype::kI64: return "I64";
  }
  return "?";
}

TensorDtype dtype_from_name(const std::string& name, const std::string& tensor) {
  if (name == "F32") return TensorDtype::kF32;
  if (name == "F64") return TensorDtype::kF64;
  if (name == "I64") return TensorDtype::kI64;
  throw std::invalid_argument("safetensors: tensor '" + tensor + "' has dtype " + name +
                              ", which this reader does not support (F32, F64, I64)");
}

uint64_t element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t dim : shape) n *= static_cast<uint64_t>(dim);
  return n;
}

}  // namespace

std::size_t element_size(TensorDtype dtype) { return dtype == TensorDtype::kF32 ? 4 : 8; }

std::size_t TensorView::size_bytes() const { return element_count(shape) * element_size(dtype); }

const TensorView& SafetensorsContents::at(const std::string& name) const {
  for (const auto& tensor : tensors)
    if (tensor.name == name) return tensor;
  throw std::invalid_argument("safetensors: no tensor '" + name + "'");
}

void write_safetensors(std::ostream& out, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__" || header.contains(tensor.name))
      throw std::invalid_argument("safetensors: tensor name '" + tensor.name + "' is empty, reserved or repeated");
    const uint64_t size = tensor.size_bytes();
    header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((uint64_t(text.size()) >> (8 * i)) & 0xff);
  out.write(length, 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& tensor : tensors) out.write(tensor.data, static_cast<std::streamsize>(tensor.size_bytes()));
}

std::string encode_safetensors(const std::vector<TensorView>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::ostringstream out;
  write_safetensors(out, tensors, metadata);
  return std::move(out).str();
}

SafetensorsContents parse_safetensors(std::string_view bytes) {
  if (bytes.size() < 8) throw std::invalid_argument("safetensors: shorter than its 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8)
    throw std::invalid_argument("safetensors: header length " + std::to_string(header_len) + " does not fit in " +
                                std::to_string(bytes.size()) + " bytes");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, header_len));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("safetensors: header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw std::invalid_argument("safetensors: header is not a JSON object");
  const std::string_view data = bytes.substr(8 + header_len);
  SafetensorsContents contents;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  try {
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        entry.get_to(contents.metadata);
        continue;
      }
      TensorView tensor;
      tensor.name = name;
      tensor.dtype = dtype_from_name(entry.at("dtype").get<std::string>(), name);
      entry.at("shape").get_to(tensor.shape);
      const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      const bool negative = std::any_of(tensor.shape.begin(), tensor.shape.end(), [](int64_t d) { return d < 0; });
      if (negative || offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data.size() ||
          offsets[1] - offsets[0] != tensor.size_bytes())
        throw std::invalid_argument("safetensors: tensor '" + name + "' has a byte range that does not match its "
                                    "shape and dtype or lies outside the file");
      tensor.data = data.data() + offsets[0];
      ranges.emplace_back(offsets[0], offsets[1]);
      contents.tensors.push_back(std::move(tensor));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("safetensors: malformed header entry: ") + e.what());
  }
  // The format's rule: the tensors tile the data exactly (no overlap, no gap).
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  uint64_t end = 0;
  std::vector<TensorView> sorted;
  for (size_t i : order) {
    if (ranges[i].first != end) throw std::invalid_argument("safetensors: tensors overlap or leave a gap");
    end = ranges[i].second;
    sorted.push_back(std::move(contents.tensors[i]));
  }
  if (end != data.size()) throw std::invalid_argument("safetensors: bytes after the last tensor");
  contents.tensors = std::move(sorted);
  return contents;
}

}  // namespace cw
