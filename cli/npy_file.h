// NumPy .npy files (format versions 1–3): what `import` reads.
#ifndef CW_CLI_NPY_FILE_H_
#define CW_CLI_NPY_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cw {

struct NpyArray {
  std::string descr;             // e.g. "<f4", "<f2", "<i8"
  std::vector<uint64_t> shape;
  std::string data;              // raw little-endian elements, C order

  uint64_t element_count() const;
  // Integer arrays (any width, signed or not) as uint32 token ids; throws on
  // a negative or too-large id or a non-integer dtype.
  std::vector<uint32_t> as_token_ids() const;
};

// Throws std::runtime_error naming the file and the problem.
NpyArray read_npy(const std::string& path);

}  // namespace cw

#endif  // CW_CLI_NPY_FILE_H_
