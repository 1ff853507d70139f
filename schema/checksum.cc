#include "schema/checksum.h"

#include <xxhash.h>

namespace cw {

uint64_t checksum64(const void* data, std::size_t bytes) { return XXH3_64bits(data, bytes); }

Checksum64::Checksum64() : state_(XXH3_createState()) { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }
Checksum64::~Checksum64() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void Checksum64::update(const void* data, std::size_t bytes) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, bytes);
}
uint64_t Checksum64::digest() const { return XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_)); }

uint64_t probe_hash(const std::vector<uint32_t>& token_ids, uint32_t sequence_length) {
  // Token ids are hashed as little-endian uint32 (this host's layout), then the length.
  const uint64_t seed = sequence_length;
  return XXH3_64bits_withSeed(token_ids.data(), token_ids.size() * sizeof(uint32_t), seed);
}

}  // namespace cw
