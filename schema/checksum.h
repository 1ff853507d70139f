// Checksums and hashes that travel on the wire.
#ifndef CW_SCHEMA_CHECKSUM_H_
#define CW_SCHEMA_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cw {

// XXH3-64 of a byte range: the snapshot checksum in SnapshotEnd.
uint64_t checksum64(const void* data, std::size_t bytes);

// Streaming form, for data that arrives in chunks.
class Checksum64 {
 public:
  Checksum64();
  ~Checksum64();
  Checksum64(const Checksum64&) = delete;
  Checksum64& operator=(const Checksum64&) = delete;
  void update(const void* data, std::size_t bytes);
  uint64_t digest() const;

 private:
  void* state_;
};

// The probe set's identity: a hash of its token ids (as little-endian
// uint32) and sequence length. Two jobs with the same probe hash feed
// comparable activations.
uint64_t probe_hash(const std::vector<uint32_t>& token_ids, uint32_t sequence_length);

}  // namespace cw

#endif  // CW_SCHEMA_CHECKSUM_H_
