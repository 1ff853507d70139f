#include "store/trajectory_record.h"

#include <capnp/message.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "schema/record_codec.h"
#include "store/store_format.h"

namespace cw {
namespace {

template <typename T>
T read_pod(std::string_view bytes, std::size_t* pos) {
  if (*pos + sizeof(T) > bytes.size()) throw std::runtime_error("corrupt trajectory record");
  T value;
  std::memcpy(&value, bytes.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return value;
}

// Format 1: u32 n_points | kSizedPoints, u32 point bytes, FeaturePoint × n,
// u32 n_contexts, FeatureContext × n (host little-endian, the structs'
// memory). A shorter stored point keeps the defaults of the fields it
// lacks; records without kSizedPoints hold the 40-byte points from before
// activation_strength.
constexpr uint32_t kSizedPoints = 0x80000000u;
constexpr uint32_t kUnsizedPointBytes = 40;

FeatureTrajectory decode_format1(uint32_t feature, std::string_view bytes) {
  FeatureTrajectory trajectory;
  trajectory.feature = feature;
  std::size_t pos = 0;
  const uint32_t n_points = read_pod<uint32_t>(bytes, &pos);
  const uint32_t point_bytes = (n_points & kSizedPoints) ? read_pod<uint32_t>(bytes, &pos) : kUnsizedPointBytes;
  // Counts are checked against the bytes before anything is allocated: a
  // corrupt count asked for up to 100 GB (fuzz/record_fuzzer.cc).
  const uint64_t count = n_points & ~kSizedPoints;
  if ((count > 0 && point_bytes == 0) || count * point_bytes > bytes.size() - pos)
    throw std::runtime_error("corrupt trajectory record");
  trajectory.points.resize(count);
  for (auto& point : trajectory.points) {
    if (pos + point_bytes > bytes.size()) throw std::runtime_error("corrupt trajectory record");
    std::memcpy(&point, bytes.data() + pos, std::min<std::size_t>(point_bytes, sizeof(FeaturePoint)));
    pos += point_bytes;
  }
  const uint32_t n_contexts = read_pod<uint32_t>(bytes, &pos);
  if (uint64_t(n_contexts) * sizeof(FeatureContext) > bytes.size() - pos) throw std::runtime_error("corrupt trajectory record");
  trajectory.top_contexts.resize(n_contexts);
  for (auto& context : trajectory.top_contexts) context = read_pod<FeatureContext>(bytes, &pos);
  return trajectory;
}

}  // namespace

std::string encode_trajectory_record(const FeatureTrajectory& trajectory) {
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::TrajectoryRecord>();
  record.setVersion(Store::kFormat);
  auto points = record.initPoints(unsigned(trajectory.points.size()));
  for (unsigned i = 0; i < points.size(); ++i) {
    const FeaturePoint& p = trajectory.points[i];
    auto out = points[i];
    out.setStep(p.step);
    out.setDecoderNorm(p.decoder_norm);
    out.setNormalisedNorm(p.normalised_norm);
    out.setFrequency(p.frequency);
    out.setMeanActivation(p.mean_activation);
    out.setMaxActivation(p.max_activation);
    out.setCosPrevious(p.cos_previous);
    out.setCosLatest(p.cos_latest);
    out.setContextuality(p.contextuality);
    out.setActivationStrength(p.activation_strength);
  }
  auto contexts = record.initTopContexts(unsigned(trajectory.top_contexts.size()));
  for (unsigned i = 0; i < contexts.size(); ++i) {
    contexts[i].setTokenIndex(trajectory.top_contexts[i].token_index);
    contexts[i].setActivation(trajectory.top_contexts[i].activation);
  }
  return encode_message_bytes(builder);
}

FeatureTrajectory decode_trajectory_record(uint32_t feature, std::string_view bytes, uint16_t format) {
  if (format < 2) return decode_format1(feature, bytes);
  return decode_record<wire::TrajectoryRecord>(bytes, "trajectory", [feature](wire::TrajectoryRecord::Reader in) {
    check_record_version(in.getVersion(), "trajectory");
    FeatureTrajectory trajectory;
    trajectory.feature = feature;
    for (auto p : in.getPoints()) {
      FeaturePoint& point = trajectory.points.emplace_back();
      point.step = p.getStep();
      point.decoder_norm = p.getDecoderNorm();
      point.normalised_norm = p.getNormalisedNorm();
      point.frequency = p.getFrequency();
      point.mean_activation = p.getMeanActivation();
      point.max_activation = p.getMaxActivation();
      point.cos_previous = p.getCosPrevious();
      point.cos_latest = p.getCosLatest();
      point.contextuality = p.getContextuality();
      point.activation_strength = p.getActivationStrength();
    }
    for (auto c : in.getTopContexts()) trajectory.top_contexts.push_back({c.getTokenIndex(), c.getActivation()});
    return trajectory;
  });
}

}  // namespace cw
