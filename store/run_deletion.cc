#include "store/run_deletion.h"

#include <chrono>
#include <filesystem>

#include "store/key_encoding.h"
#include "store/row_files.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"

namespace cw {

nlohmann::json RunDeletion::to_json() const {
  return {{"run", run},
          {"deleted", true},
          {"arrays", arrays},
          {"array_bytes", array_bytes},
          {"records", records},
          {"disk_bytes_before", disk_bytes_before},
          {"disk_bytes_after", disk_bytes_after ? nlohmann::json(*disk_bytes_after) : nlohmann::json()},
          {"compacting", !disk_bytes_after.has_value()},
          {"seconds", seconds}};
}

namespace {

// Every family's keys begin with the run's name and its terminating '\0'
// (docs/STORE.md), and names hold no '\0': this prefix is the run's alone.
std::string run_prefix(const std::string& run) { return KeyBuilder().text(run).str(); }

}  // namespace

void compact_run(Store& store, const std::string& run, std::atomic<bool>* canceled) {
  const std::string prefix = run_prefix(run);
  for (int i = 0; i < int(Family::kCount) && !(canceled && canceled->load()); ++i)
    if (Family(i) != Family::kMeta) store.compact(Family(i), prefix, canceled);
}

std::optional<RunDeletion> delete_run(Store& store, const std::string& run, Compaction compaction) {
  if (!RunCatalog(store).get(run)) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  RunDeletion result;
  result.run = run;
  result.disk_bytes_before = store.disk_bytes();
  for (const auto& meta : SnapshotTable(store).list_all(run)) {
    ++result.arrays;
    result.array_bytes += meta.bytes();
  }
  const std::string prefix = run_prefix(run);
  StoreBatch batch;
  for (int i = 0; i < int(Family::kCount); ++i) {
    const Family family = Family(i);
    if (family == Family::kMeta) continue;  // the store's own records
    if (family != Family::kSnapshotData && family != Family::kSnapshotMeta) {
      store.scan(family, prefix, [&](std::string_view, std::string_view) {
        ++result.records;
        return true;
      });
    }
    batch.erase_prefix(family, prefix);
  }
  store.write(batch);
  if (compaction == Compaction::kNow) compact_run(store, run);
  // The files its streamed crosscoders read rows from (store/row_files.h).
  std::error_code ignored;
  std::filesystem::remove_all(row_files_dir(store, run), ignored);
  if (compaction == Compaction::kNow) result.disk_bytes_after = store.disk_bytes();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cw
