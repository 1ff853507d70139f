#include "store/analysis_tables.h"

#include <stdexcept>
#include <string_view>
#include <utility>

#include "store/document_record.h"
#include "store/key_encoding.h"
#include "store/trajectory_record.h"

namespace cw {
namespace {

std::string tap_key(const std::string& run, const std::string& tap) { return KeyBuilder().text(run).text(tap).str(); }

// A state in parts: under the tap's key a header (the tag, the number of
// parts, the state's length; KeyBuilder's encoding), the parts under the
// tap's key followed by the part's index (be32). No state begins with the
// tag: a safetensors file begins with its header's length (u64
// little-endian, far below the tag's bytes), formats 1 and 2 with "CWCROSS".
constexpr std::string_view kPartsTag = "CWPARTS1";

std::string parts_header(uint32_t parts, uint64_t bytes) {
  return KeyBuilder().text(kPartsTag).u32(parts).u64(bytes).str();
}

// The tag as encoded, then two fixed-size numbers.
bool is_parts_header(const std::string& value) {
  const std::string tag = KeyBuilder().text(kPartsTag).str();
  return value.size() == parts_header(0, 0).size() && value.compare(0, tag.size(), tag) == 0;
}

std::string part_key(const std::string& run, const std::string& tap, uint32_t part) {
  return KeyBuilder().text(run).text(tap).u32(part).str();
}

}  // namespace

CrosscoderStateTable::CrosscoderStateTable(Store& store, std::size_t part_bytes) : store_(store), part_bytes_(part_bytes) {
  if (part_bytes_ == 0 || part_bytes_ > Store::kMaxValueBytes)
    throw std::invalid_argument("crosscoder state table: a part must hold 1 to " + std::to_string(Store::kMaxValueBytes) +
                                " bytes");
}

void CrosscoderStateTable::put(const std::string& run, const std::string& tap, const std::string& state) {
  const std::string key = tap_key(run, tap);
  StoreBatch batch;
  // The previous state's parts go with it, however many it had: one range
  // tombstone over the tap's keys, written before the new keys, so that the
  // batch leaves exactly the new state.
  batch.erase_prefix(Family::kCrosscoder, key);
  if (state.size() <= part_bytes_) {
    batch.put_unowned(Family::kCrosscoder, key, state);
  } else {
    const std::size_t parts = (state.size() + part_bytes_ - 1) / part_bytes_;
    batch.put(Family::kCrosscoder, key, parts_header(static_cast<uint32_t>(parts), state.size()));
    for (std::size_t i = 0; i < parts; ++i) {
      batch.put_unowned(Family::kCrosscoder, part_key(run, tap, static_cast<uint32_t>(i)),
                        std::string_view(state).substr(i * part_bytes_, part_bytes_));
    }
  }
  store_.write(batch);
}

void TransitionTable::put(const std::string& run, const std::string& tap, const nlohmann::json& transitions) {
  store_.put(Family::kTransitions, tap_key(run, tap), encode_document_record(transitions));
}

std::optional<nlohmann::json> TransitionTable::get(const std::string& run, const std::string& tap) const {
  std::string bytes;
  if (!store_.get(Family::kTransitions, tap_key(run, tap), &bytes)) return std::nullopt;
  return decode_document_record(bytes, store_.format());
}

std::optional<std::string> CrosscoderStateTable::get(const std::string& run, const std::string& tap) const {
  std::string state;
  if (!store_.get(Family::kCrosscoder, tap_key(run, tap), &state)) return std::nullopt;
  if (!is_parts_header(state)) return state;
  KeyReader header(state);
  header.text();
  const uint32_t parts = header.u32();
  const uint64_t bytes = header.u64();
  const std::string what = "the crosscoder state of run '" + run + "', tap '" + tap + "'";
  state.clear();
  state.reserve(bytes);
  std::string part;
  for (uint32_t i = 0; i < parts; ++i) {
    if (!store_.get(Family::kCrosscoder, part_key(run, tap, i), &part))
      throw StoreError(what + ": part " + std::to_string(i + 1) + " of " + std::to_string(parts) + " is missing");
    state += part;
  }
  if (state.size() != bytes)
    throw StoreError(what + ": its parts hold " + std::to_string(state.size()) + " bytes, its header says " +
                     std::to_string(bytes));
  return state;
}

std::vector<std::pair<std::string, std::string>> CrosscoderStateTable::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  store_.scan(Family::kCrosscoder, "", [&](std::string_view key, std::string_view) {
    KeyReader reader(key);
    std::string run = reader.text();
    std::string tap = reader.text();
    if (reader.at_end()) out.emplace_back(std::move(run), std::move(tap));  // not a part
    return true;
  });
  return out;
}

void MetricsTable::put(const std::string& run, const std::string& tap,
                       const std::vector<std::pair<uint64_t, nlohmann::json>>& by_step) {
  StoreBatch batch;
  for (const auto& [step, metrics] : by_step) {
    batch.put(Family::kMetrics, KeyBuilder().text(run).text(tap).u64(step).str(), encode_document_record(metrics));
  }
  store_.write(batch);
}

std::vector<std::pair<uint64_t, nlohmann::json>> MetricsTable::list(const std::string& run, const std::string& tap) const {
  std::vector<std::pair<uint64_t, nlohmann::json>> out;
  store_.scan(Family::kMetrics, tap_key(run, tap), [&](std::string_view key, std::string_view value) {
    KeyReader reader(key);
    reader.text();
    reader.text();
    nlohmann::json metrics = decode_document_record(value, store_.format());
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
    batch.put(Family::kTrajectories, KeyBuilder().text(run).text(tap).u32(trajectory.feature).str(), encode_trajectory_record(trajectory));
  }
  store_.write(batch);
}

std::optional<FeatureTrajectory> TrajectoryTable::get(const std::string& run, const std::string& tap,
                                                      uint32_t feature) const {
  std::string bytes;
  if (!store_.get(Family::kTrajectories, KeyBuilder().text(run).text(tap).u32(feature).str(), &bytes)) return std::nullopt;
  return decode_trajectory_record(feature, bytes, store_.format());
}

std::vector<FeatureTrajectory> TrajectoryTable::list(const std::string& run, const std::string& tap) const {
  std::vector<FeatureTrajectory> out;
  store_.scan(Family::kTrajectories, tap_key(run, tap), [&](std::string_view key, std::string_view value) {
    KeyReader reader(key);
    reader.text();
    reader.text();
    out.push_back(decode_trajectory_record(reader.u32(), value, store_.format()));
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
  store_.put(Family::kEvents, KeyBuilder().text(run).u64(last + 1).str(), encode_document_record(event));
  return last + 1;
}

std::vector<nlohmann::json> EventLog::list(const std::string& run, uint64_t after) const {
  std::vector<nlohmann::json> out;
  const std::string prefix = run.empty() ? std::string() : KeyBuilder().text(run).str();
  store_.scan(Family::kEvents, prefix, [&](std::string_view, std::string_view value) {
    auto event = decode_document_record(value, store_.format());
    if (event.value("seq", uint64_t(0)) > after) out.push_back(std::move(event));
    return true;
  });
  return out;
}

}  // namespace cw
