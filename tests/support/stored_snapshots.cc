#include "tests/support/stored_snapshots.h"

#include "schema/checksum.h"
#include "store/snapshot_table.h"
#include "tests/support/test_data.h"

namespace cw::testing {

std::string check_stored_exactly(const std::string& data_dir, const RunDescription& run, const std::string& tap,
                                 const std::set<uint64_t>& steps) {
  auto store = Store::open(data_dir, StoreOptions{true, false});
  SnapshotTable table(*store);
  std::string problems;
  std::set<uint64_t> seen;
  const std::size_t count = std::size_t(run.probe.n_tokens()) * run.find_tap(tap)->d_model;
  for (const SnapshotMeta& meta : table.list(run.run, tap)) {
    const uint64_t step = meta.key.step;
    const std::string at = "step " + std::to_string(step) + ": ";
    if (!seen.insert(step).second) problems += at + "listed twice\n";
    if (!steps.count(step)) problems += at + "stored but not expected\n";
    const auto expected = random_activations(array_seed(tap, step), count);
    std::string data;
    if (!table.read(meta.key, &data)) {
      problems += at + "its data is missing\n";
    } else if (data != as_bytes(expected) || meta.checksum != checksum64(data.data(), data.size())) {
      problems += at + "stored bytes differ from those published\n";
    }
  }
  // One data key per snapshot: a second copy under another key would show here.
  std::size_t keys = 0;
  store->scan(Family::kSnapshotData, run.run + std::string(1, '\0'), [&](std::string_view, std::string_view) {
    ++keys;
    return true;
  });
  if (keys != seen.size())
    problems += std::to_string(keys) + " data keys for " + std::to_string(seen.size()) + " snapshots\n";
  for (uint64_t step : steps)
    if (!seen.count(step)) problems += "step " + std::to_string(step) + ": expected, not stored\n";
  return problems;
}

}  // namespace cw::testing
