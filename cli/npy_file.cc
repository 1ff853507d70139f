#include "cli/npy_file.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace cw {

uint64_t NpyArray::element_count() const {
  uint64_t count = 1;
  for (uint64_t dim : shape) count *= dim;
  return count;
}

std::vector<uint32_t> NpyArray::as_token_ids() const {
  if (descr.size() != 3 || (descr[1] != 'i' && descr[1] != 'u') || (descr[0] != '<' && descr[0] != '|')) {
    throw std::runtime_error("token ids must be a little-endian integer array, not '" + descr + "'");
  }
  const int width = descr[2] - '0';
  if (width != 1 && width != 2 && width != 4 && width != 8) throw std::runtime_error("unsupported integer width in '" + descr + "'");
  const bool is_signed = descr[1] == 'i';
  std::vector<uint32_t> ids(element_count());
  for (uint64_t i = 0; i < ids.size(); ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, data.data() + i * width, width);
    int64_t value = int64_t(raw);
    if (is_signed && width < 8 && (raw >> (8 * width - 1)) & 1) value = int64_t(raw) - (int64_t(1) << (8 * width));
    if (value < 0 || value > int64_t(UINT32_MAX)) throw std::runtime_error("token id " + std::to_string(value) + " out of range");
    ids[i] = uint32_t(value);
  }
  return ids;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  auto fail = [&](const std::string& why) { throw std::runtime_error("'" + path + "' is not a usable .npy file: " + why); };
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail("bad magic");
  const int major = magic[6];
  uint32_t header_len = 0;
  if (major == 1) {
    uint16_t len16;
    in.read(reinterpret_cast<char*>(&len16), 2);
    header_len = len16;
  } else if (major == 2 || major == 3) {
    in.read(reinterpret_cast<char*>(&header_len), 4);
  } else {
    fail("format version " + std::to_string(major));
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) fail("truncated header");

  NpyArray array;
  std::smatch match;
  if (!std::regex_search(header, match, std::regex(R"('descr'\s*:\s*'([^']+)')"))) fail("no descr");
  array.descr = match[1];
  if (std::regex_search(header, match, std::regex(R"('fortran_order'\s*:\s*True)"))) fail("Fortran order; save a C-contiguous array");
  if (!std::regex_search(header, match, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) fail("no shape");
  std::stringstream dims(match[1].str());
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(" ") == std::string::npos) continue;
    array.shape.push_back(std::stoull(dim));
  }
  const int width = array.descr.back() - '0';
  if (width <= 0 || width > 8) fail("unsupported dtype '" + array.descr + "'");
  if (array.descr[0] == '>') fail("big-endian data; convert with .astype('<f4')");
  array.data.resize(array.element_count() * width);
  if (!in.read(array.data.data(), array.data.size())) fail("file ends before its " + std::to_string(array.data.size()) + " data bytes");
  return array;
}

}  // namespace cw
