// The values of `attribution`: one task's attribution at every snapshot the
// crosscoder held, stored as an AttributionRecord (schema/conceptwatch.capnp).
#ifndef CW_STORE_ATTRIBUTION_RECORD_H_
#define CW_STORE_ATTRIBUTION_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/attribution_table.h"

namespace cw {

// Throws std::invalid_argument on inconsistent sizes.
std::string encode_attribution_record(const AttributionRecord& record);
// `format`: the store format the value was written in (Store::format()).
// Throws std::runtime_error on a corrupt value or one of a newer format.
AttributionRecord decode_attribution_record(std::string_view bytes, uint16_t format);

}  // namespace cw

#endif  // CW_STORE_ATTRIBUTION_RECORD_H_
