#include "store/analysis_tables.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "schema/json_text.h"
#include "store/key_encoding.h"

namespace cw {
namespace {

std::string tap_key(const std::string& run, const std::string& tap) { return KeyBuilder().text(run).text(tap).str(); }

template <typename T>
void append_pod(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T read_pod(std::string_view bytes, std::size_t* pos) {
  if (*pos + sizeof(T) > bytes.size()) throw std::runtime_error("corrupt trajectory record");
  T value;
  std::memcpy(&value, bytes.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return value;
}

// Layout: u32 n_points | kSizedPoints, u32 point bytes, FeaturePoint × n,
// u32 n_contexts, FeatureContext × n (host little-endian, the structs are
// plain floats and integers). The point size is stored so that a field added
// to FeaturePoint leaves older records readable: a shorter stored point keeps
// the defaults of the fields it lacks. Records without kSizedPoints hold the
// 40-byte points from before activation_strength.
constexpr uint32_t kSizedPoints = 0x80000000u;
constexpr uint32_t kUnsizedPointBytes = 40;

std::string encode(const FeatureTrajectory& trajectory) {
  std::string out;
  append_pod(&out, uint32_t(trajectory.points.size()) | kSizedPoints);
  append_pod(&out, uint32_t(sizeof(FeaturePoint)));
  for (const auto& point : trajectory.points) append_pod(&out, point);
  append_pod(&out, uint32_t(trajectory.top_contexts.size()));
  for (const auto& context : trajectory.top_contexts) append_pod(&out, context);
  return out;
}

FeatureTrajectory decode(uint32_t feature, std::string_view bytes) {
  FeatureTrajectory trajectory;
  trajectory.feature = feature;
  std::size_t pos = 0;
  const uint32_t n_points = read_pod<uint32_t>(bytes, &pos);
  const uint32_t point_bytes = (n_points & kSizedPoints) ? read_pod<uint32_t>(bytes, &pos) : kUnsizedPointBytes;
  // Counts are checked against the bytes before anything is allocated: a
  // corrupt count asked for up to 100 GB (fuzz/record_fuzzer.cc).
  const uint64_t count = n_points & ~kSizedPoints;
  if ((count > 0 && point_bytes == 0) || count * point_bytes > bytes.size() - pos) throw std::runtime_error("corrupt trajectory record");
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

void CrosscoderStateTable::put(const std::string& run, const std::string& tap, const std::string& state) {
  store_.put(Family::kCrosscoder, tap_key(run, tap), state);
}

void TransitionTable::put(const std::string& run, const std::string& tap, const nlohmann::json& transitions) {
  store_.put(Family::kTransitions, tap_key(run, tap), json_text(transitions));
}

std::optional<nlohmann::json> TransitionTable::get(const std::string& run, const std::string& tap) const {
  std::string text;
  if (!store_.get(Family::kTransitions, tap_key(run, tap), &text)) return std::nullopt;
  return nlohmann::json::parse(text);
}

std::optional<std::string> CrosscoderStateTable::get(const std::string& run, const std::string& tap) const {
  std::string state;
  if (!store_.get(Family::kCrosscoder, tap_key(run, tap), &state)) return std::nullopt;
  return state;
}

std::vector<std::pair<std::string, std::string>> CrosscoderStateTable::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  store_.scan(Family::kCrosscoder, "", [&](std::string_view key, std::string_view) {
    KeyReader reader(key);
    std::string run = reader.text();
    out.emplace_back(std::move(run), reader.text());
    return true;
  });
  return out;
}

void MetricsTable::put(const std::string& run, const std::string& tap,
                       const std::vector<std::pair<uint64_t, nlohmann::json>>& by_step) {
  StoreBatch batch;
  for (const auto& [step, metrics] : by_step) {
    batch.put(Family::kMetrics, KeyBuilder().text(run).text(tap).u64(step).str(), json_text(metrics));
  }
  store_.write(batch);
}

std::vector<std::pair<uint64_t, nlohmann::json>> MetricsTable::list(const std::string& run, const std::string& tap) const {
  std::vector<std::pair<uint64_t, nlohmann::json>> out;
  store_.scan(Family::kMetrics, tap_key(run, tap), [&](std::string_view key, std::string_view value) {
    KeyReader reader(key);
    reader.text();
    reader.text();
    nlohmann::json metrics = nlohmann::json::parse(value);
    for (const auto& [old_key, key] : {std::pair{"dead_features", "dead_fraction"}, {"dense_features", "dense_fraction"}})
      if (metrics.contains(old_key) && !metrics.contains(key)) metrics[key] = metrics[old_key];
    out.emplace_back(reader.u64(), std::move(metrics));
    return true;
  });
  return out;
}

void TrajectoryTable::put(const std::string& run, const std::string& tap, const std::vector<FeatureTrajectory>& features) {
  StoreBatch batch;
  for (const auto& trajectory : features) {
    batch.put(Family::kTrajectories, KeyBuilder().text(run).text(tap).u32(trajectory.feature).str(), encode(trajectory));
  }
  store_.write(batch);
}

std::optional<FeatureTrajectory> TrajectoryTable::get(const std::string& run, const std::string& tap,
                                                      uint32_t feature) const {
  std::string bytes;
  if (!store_.get(Family::kTrajectories, KeyBuilder().text(run).text(tap).u32(feature).str(), &bytes)) return std::nullopt;
  return decode(feature, bytes);
}

std::vector<FeatureTrajectory> TrajectoryTable::list(const std::string& run, const std::string& tap) const {
  std::vector<FeatureTrajectory> out;
  store_.scan(Family::kTrajectories, tap_key(run, tap), [&](std::string_view key, std::string_view value) {
    KeyReader reader(key);
    reader.text();
    reader.text();
    out.push_back(decode(reader.u32(), value));
    return true;
  });
  return out;
}

uint64_t EventLog::append(const std::string& run, nlohmann::json event) {
  uint64_t last = 0;
  // The newest key of the run holds the highest sequence number.
  store_.scan(Family::kEvents, KeyBuilder().text(run).str(), [&](std::string_view key, std::string_view) {
    KeyReader reader(key);
    reader.text();
    last = reader.u64();
    return true;
  });
  event["seq"] = last + 1;
  event["run"] = run;
  store_.put(Family::kEvents, KeyBuilder().text(run).u64(last + 1).str(), json_text(event));
  return last + 1;
}

std::vector<nlohmann::json> EventLog::list(const std::string& run, uint64_t after) const {
  std::vector<nlohmann::json> out;
  const std::string prefix = run.empty() ? std::string() : KeyBuilder().text(run).str();
  store_.scan(Family::kEvents, prefix, [&](std::string_view, std::string_view value) {
    auto event = nlohmann::json::parse(value);
    if (event.value("seq", uint64_t(0)) > after) out.push_back(std::move(event));
    return true;
  });
  return out;
}

}  // namespace cw
