#include "store/attribution_record.h"

#include <capnp/message.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "schema/record_codec.h"
#include "store/store_format.h"

namespace cw {
namespace {

template <typename T>
T take(std::string_view bytes, std::size_t* pos) {
  if (*pos + sizeof(T) > bytes.size()) throw StoreError("corrupt attribution record: too short");
  T value;
  std::memcpy(&value, bytes.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return value;
}

// Format 1 (host little-endian): u32 T, u32 F, u64 computed_unix_ms, then
// T × (u64 step, f64 metric, f64 linear_total), then T × F f32. Records
// written before linear_total existed have T × (u64 step, f64 metric):
// told apart by their size, and read NaN.
AttributionRecord decode_format1(std::string_view bytes) {
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

template <typename T, typename List>
void write_list(const std::vector<T>& values, List out) {
  for (unsigned i = 0; i < values.size(); ++i) out.set(i, values[i]);
}

template <typename T, typename List>
std::vector<T> read_list(List in) {
  std::vector<T> out(in.size());
  for (unsigned i = 0; i < in.size(); ++i) out[i] = in[i];
  return out;
}

}  // namespace

std::string encode_attribution_record(const AttributionRecord& r) {
  const std::size_t T = r.steps.size();
  if (r.metric.size() != T || r.linear_total.size() != T || r.values.size() != T * r.n_features)
    throw std::invalid_argument("attribution record: " + std::to_string(T) + " steps need as many metrics, linear totals and " +
                                std::to_string(T) + " × " + std::to_string(r.n_features) + " values");
  // One segment sized to hold the record: its bytes are copied once.
  capnp::MallocMessageBuilder builder(unsigned(16 + 3 * T + r.values.size() / 2));
  auto record = builder.initRoot<wire::AttributionRecord>();
  record.setVersion(Store::kFormat);
  record.setComputedUnixMs(r.computed_unix_ms);
  record.setNFeatures(r.n_features);
  write_list(r.steps, record.initSteps(unsigned(T)));
  write_list(r.metric, record.initMetric(unsigned(T)));
  write_list(r.linear_total, record.initLinearTotal(unsigned(T)));
  write_list(r.values, record.initValues(unsigned(r.values.size())));
  return encode_message_bytes(builder);
}

AttributionRecord decode_attribution_record(std::string_view bytes, uint16_t format) {
  if (format < 2) return decode_format1(bytes);
  AttributionRecord r =
      decode_record<wire::AttributionRecord>(bytes, "attribution", [](wire::AttributionRecord::Reader in) {
        check_record_version(in.getVersion(), "attribution");
        AttributionRecord out;
        out.computed_unix_ms = in.getComputedUnixMs();
        out.n_features = in.getNFeatures();
        out.steps = read_list<uint64_t>(in.getSteps());
        out.metric = read_list<double>(in.getMetric());
        out.linear_total = read_list<double>(in.getLinearTotal());
        out.values = read_list<float>(in.getValues());
        return out;
      });
  const std::size_t T = r.steps.size();
  if (r.metric.size() != T || r.linear_total.size() != T || r.values.size() != T * r.n_features)
    throw StoreError("corrupt attribution record: " + std::to_string(T) + " steps, " + std::to_string(r.values.size()) +
                     " values for " + std::to_string(r.n_features) + " features");
  return r;
}

}  // namespace cw
