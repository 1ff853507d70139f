// The values of `trajectories`: one feature's measures at each snapshot and
// its top contexts, stored as a TrajectoryRecord (schema/conceptwatch.capnp).
#ifndef CW_STORE_TRAJECTORY_RECORD_H_
#define CW_STORE_TRAJECTORY_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/analysis_tables.h"

namespace cw {

std::string encode_trajectory_record(const FeatureTrajectory& trajectory);
// `feature` comes from the key. `format`: the store format the value was
// written in (Store::format()). Throws on a corrupt value or one of a
// newer format.
FeatureTrajectory decode_trajectory_record(uint32_t feature, std::string_view bytes, uint16_t format);

}  // namespace cw

#endif  // CW_STORE_TRAJECTORY_RECORD_H_
