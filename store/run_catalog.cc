#include "store/run_catalog.h"

#include "store/key_encoding.h"

namespace cw {
namespace {

std::string run_key(const std::string& run) { return KeyBuilder().text(run).str(); }

}  // namespace

void RunCatalog::put(const RunDescription& run, uint64_t created_unix_ms) {
  StoreBatch batch;
  batch.put(Family::kRuns, run_key(run.run), encode_run_record(run, created_unix_ms));
  batch.put(Family::kProbes, run_key(run.run), encode_probe_set(run.probe));
  store_.write(batch);
}

void RunCatalog::put_record(const RunDescription& run, uint64_t created_unix_ms) {
  StoreBatch batch;
  batch.put(Family::kRuns, run_key(run.run), encode_run_record(run, created_unix_ms));
  store_.write(batch);
}

std::optional<RunEntry> RunCatalog::get(const std::string& run) const {
  std::string record;
  if (!store_.get(Family::kRuns, run_key(run), &record)) return std::nullopt;
  return decode_run_record(record);
}

std::vector<RunEntry> RunCatalog::list(std::vector<Unreadable>* unreadable) const {
  std::vector<RunEntry> runs;
  store_.scan(Family::kRuns, "", [&](std::string_view key, std::string_view value) {
    try {
      runs.push_back(decode_run_record(value));
    } catch (const std::runtime_error& e) {
      if (!unreadable) throw;
      unreadable->push_back({std::string(key.substr(0, key.find('\0'))), e.what()});
    }
    return true;
  });
  return runs;
}

std::optional<ProbeSet> RunCatalog::probe(const std::string& run) const {
  std::string bytes;
  if (!store_.get(Family::kProbes, run_key(run), &bytes)) return std::nullopt;
  return decode_probe_set(bytes);
}

}  // namespace cw
