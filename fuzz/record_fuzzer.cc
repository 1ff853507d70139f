// Stored record codecs (schema/record_codec.h, store/): any bytes as the
// value of a stored record, read the way the daemon and the CLI read a
// store that a crash, a disk fault or another version left behind. The
// first byte picks the record (its value mod 10) and the store format it is
// read in (store/store_format.h); the run, probe, snapshot, trajectory,
// attribution and document records are decoded directly, metrics and events
// and corrupt keys also through their tables over a real store. Contract: a
// corrupt value throws std::runtime_error (StoreError is one) or nlohmann's
// parse error and nothing worse; a probe set, snapshot record or current
// document that decodes is written back to a fixed point.
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/scratch_store.h"
#include "schema/record_codec.h"
#include "store/analysis_tables.h"
#include "store/attribution_record.h"
#include "store/attribution_table.h"
#include "store/document_record.h"
#include "store/key_encoding.h"
#include "store/trajectory_record.h"

namespace {

const std::string kRun = "r", kTap = "t";

// The key a table keeps (run, tap, ...) under: the prefix of every key a
// fuzzed key suffix is appended to.
std::string tap_prefix() { return cw::KeyBuilder().text(kRun).text(kTap).str(); }

// A record stored for one input and removed after it, whatever happens:
// fuzzed keys would otherwise pile up in the store.
class KeyOnce {
 public:
  KeyOnce(cw::Store& store, cw::Family family, std::string key) : store_(store), family_(family), key_(std::move(key)) {
    store_.put(family_, key_, "");
  }
  ~KeyOnce() {
    cw::StoreBatch undo;
    undo.erase(family_, key_);
    store_.write(undo);
  }

 private:
  cw::Store& store_;
  cw::Family family_;
  std::string key_;
};

void decode(cw::Store& store, uint8_t which, std::string_view value) {
  // The store format a value is read in: 1 (a store not yet migrated), 2
  // (the current one) or 3 (newer: refused).
  const uint16_t format = uint16_t(1 + (which / 10) % 3);
  switch (which % 10) {
    case 0:
      (void)cw::decode_run_record(value);
      break;
    case 1: {
      const std::string once = cw::encode_probe_set(cw::decode_probe_set(value));
      if (cw::encode_probe_set(cw::decode_probe_set(once)) != once) std::abort();
      break;
    }
    case 2: {
      const std::string once = cw::encode_snapshot_meta(cw::decode_snapshot_meta(value));
      if (cw::encode_snapshot_meta(cw::decode_snapshot_meta(once)) != once) std::abort();
      break;
    }
    case 3:
      (void)cw::decode_trajectory_record(7, value, format);
      break;
    case 4:
      (void)cw::decode_attribution_record(value, format);
      break;
    case 5: {  // metrics, events and transitions are JSON documents
      const std::string once = cw::encode_document_record(cw::decode_document_record(value, format));
      if (cw::encode_document_record(cw::decode_document_record(once, cw::Store::kFormat)) != once) std::abort();
      break;
    }
    case 6:
      store.put(cw::Family::kMetrics, cw::KeyBuilder().text(kRun).text(kTap).u64(1).str(), value);
      (void)cw::MetricsTable(store).list(kRun, kTap);
      break;
    case 7:
      store.put(cw::Family::kEvents, cw::KeyBuilder().text(kRun).u64(1).str(), value);
      (void)cw::EventLog(store).list(kRun);
      break;
    default: {  // a corrupt key: the tables parse keys while they list
      const cw::Family family = which % 10 == 8 ? cw::Family::kTrajectories : cw::Family::kAttribution;
      const KeyOnce key(store, family, tap_prefix() + std::string(value));
      if (family == cw::Family::kTrajectories)
        (void)cw::TrajectoryTable(store).list(kRun, kTap);
      else
        (void)cw::AttributionTable(store).tasks(kRun, kTap);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static cw::fuzz::ScratchStore scratch(100000);
  if (size == 0) return 0;
  try {
    decode(scratch.next(), data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } catch (const std::runtime_error&) {
  } catch (const nlohmann::json::exception&) {  // JSON records: parse errors are nlohmann's, not runtime_error
  }
  return 0;
}
