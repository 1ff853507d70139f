// Order-preserving keys: text parts end in '\0' (names never contain it) and
// integers are big-endian, so a RocksDB scan visits steps in numeric order.
#ifndef CW_STORE_KEY_ENCODING_H_
#define CW_STORE_KEY_ENCODING_H_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cw {

class KeyBuilder {
 public:
  KeyBuilder& text(std::string_view part) {
    key_.append(part.data(), part.size());
    key_.push_back('\0');
    return *this;
  }
  KeyBuilder& u8(uint8_t value) {
    key_.push_back(static_cast<char>(value));
    return *this;
  }
  KeyBuilder& u32(uint32_t value) { return big_endian(value, 4); }
  KeyBuilder& u64(uint64_t value) { return big_endian(value, 8); }
  const std::string& str() const { return key_; }

 private:
  KeyBuilder& big_endian(uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) key_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
  }
  std::string key_;
};

// Reads a key written by KeyBuilder, part by part; throws on a short key.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : key_(key) {}
  std::string text() {
    const auto end = key_.find('\0', pos_);
    if (end == std::string_view::npos) throw std::runtime_error("corrupt store key: unterminated text");
    std::string part(key_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return part;
  }
  uint8_t u8() { return uint8_t(big_endian(1)); }
  uint32_t u32() { return uint32_t(big_endian(4)); }
  uint64_t u64() { return big_endian(8); }
  // Whether every part has been read.
  bool at_end() const { return pos_ == key_.size(); }

 private:
  uint64_t big_endian(std::size_t bytes) {
    if (pos_ + bytes > key_.size()) throw std::runtime_error("corrupt store key: too short");
    uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | uint8_t(key_[pos_ + i]);
    pos_ += bytes;
    return value;
  }
  std::string_view key_;
  std::size_t pos_ = 0;
};

}  // namespace cw

#endif  // CW_STORE_KEY_ENCODING_H_
