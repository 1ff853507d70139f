#include "store/attribution_table.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "store/key_encoding.h"

namespace cw {
namespace {

// Value layout (host little-endian, as the trajectories): u32 T, u32 F,
// u64 computed_unix_ms, then T × (u64 step, f64 metric, f64 linear_total),
// then T × F f32. Records written before linear_total existed have
// T × (u64 step, f64 metric): told apart by their size.
template <typename T>
void append(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T take(std::string_view bytes, std::size_t* pos) {
  if (*pos + sizeof(T) > bytes.size()) throw StoreError("corrupt attribution record: too short");
  T value;
  std::memcpy(&value, bytes.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return value;
}

std::string encode(const AttributionRecord& r) {
  const std::size_t T = r.steps.size();
  if (r.metric.size() != T || r.linear_total.size() != T || r.values.size() != T * r.n_features)
    throw std::invalid_argument("attribution record: " + std::to_string(T) + " steps need as many metrics, linear totals and " +
                                std::to_string(T) + " × " + std::to_string(r.n_features) + " values");
  std::string out;
  out.reserve(16 + T * 24 + r.values.size() * sizeof(float));
  append(&out, uint32_t(T));
  append(&out, r.n_features);
  append(&out, r.computed_unix_ms);
  for (std::size_t t = 0; t < T; ++t) {
    append(&out, r.steps[t]);
    append(&out, r.metric[t]);
    append(&out, r.linear_total[t]);
  }
  out.append(reinterpret_cast<const char*>(r.values.data()), r.values.size() * sizeof(float));
  return out;
}

AttributionRecord decode(std::string_view bytes) {
  AttributionRecord r;
  std::size_t pos = 0;
  const uint32_t T = take<uint32_t>(bytes, &pos);
  r.n_features = take<uint32_t>(bytes, &pos);
  r.computed_unix_ms = take<uint64_t>(bytes, &pos);
  const std::size_t n = std::size_t(T) * r.n_features;
  const bool has_linear_total = bytes.size() == 16 + std::size_t(T) * 24 + n * sizeof(float);
  for (uint32_t t = 0; t < T; ++t) {
    r.steps.push_back(take<uint64_t>(bytes, &pos));
    r.metric.push_back(take<double>(bytes, &pos));
    r.linear_total.push_back(has_linear_total ? take<double>(bytes, &pos) : std::nan(""));
  }
  if (bytes.size() - pos != n * sizeof(float)) throw StoreError("corrupt attribution record: wrong size");
  r.values.resize(n);
  if (n > 0) std::memcpy(r.values.data(), bytes.data() + pos, n * sizeof(float));  // data() may be null: UB for memcpy
  return r;
}

std::string task_key(const std::string& run, const std::string& tap, const std::string& task) {
  return KeyBuilder().text(run).text(tap).text(task).str();
}

}  // namespace

void AttributionTable::put(const std::string& run, const std::string& tap, const std::string& task,
                           const AttributionRecord& record) {
  store_.put(Family::kAttribution, task_key(run, tap, task), encode(record));
}

std::optional<AttributionRecord> AttributionTable::get(const std::string& run, const std::string& tap,
                                                       const std::string& task) const {
  std::string bytes;
  if (!store_.get(Family::kAttribution, task_key(run, tap, task), &bytes)) return std::nullopt;
  return decode(bytes);
}

std::vector<std::string> AttributionTable::tasks(const std::string& run, const std::string& tap) const {
  std::vector<std::string> out;
  store_.scan(Family::kAttribution, KeyBuilder().text(run).text(tap).str(), [&](std::string_view key, std::string_view) {
    KeyReader reader(key);
    reader.text();
    reader.text();
    out.push_back(reader.text());
    return true;
  });
  return out;
}

}  // namespace cw
