#include "store/attribution_table.h"

#include "store/attribution_record.h"
#include "store/key_encoding.h"

namespace cw {
namespace {

std::string task_key(const std::string& run, const std::string& tap, const std::string& task) {
  return KeyBuilder().text(run).text(tap).text(task).str();
}

}  // namespace

void AttributionTable::put(const std::string& run, const std::string& tap, const std::string& task,
                           const AttributionRecord& record) {
  store_.put(Family::kAttribution, task_key(run, tap, task), encode_attribution_record(record));
}

std::optional<AttributionRecord> AttributionTable::get(const std::string& run, const std::string& tap,
                                                       const std::string& task) const {
  std::string bytes;
  if (!store_.get(Family::kAttribution, task_key(run, tap, task), &bytes)) return std::nullopt;
  return decode_attribution_record(bytes, store_.format());
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
