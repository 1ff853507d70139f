// Stored record codecs (schema/record_codec.h, store/): any bytes as the
// value of a stored record, read the way the daemon and the CLI read a
// store that a crash, a disk fault or another version left behind. The
// first byte picks the record; the run, probe and snapshot records are
// decoded directly, the analysis records through their tables over a real
// store. Contract: a corrupt value throws std::runtime_error (StoreError is
// one) and nothing worse; a probe set or snapshot record that decodes is
// written back to a fixed point.
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/scratch_store.h"
#include "schema/record_codec.h"
#include "store/analysis_tables.h"
#include "store/attribution_table.h"
#include "store/key_encoding.h"

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
      store.put(cw::Family::kTrajectories, cw::KeyBuilder().text(kRun).text(kTap).u32(7).str(), value);
      (void)cw::TrajectoryTable(store).get(kRun, kTap, 7);
      break;
    case 4:
      store.put(cw::Family::kAttribution, cw::KeyBuilder().text(kRun).text(kTap).text("task").str(), value);
      (void)cw::AttributionTable(store).get(kRun, kTap, "task");
      break;
    case 5:
      store.put(cw::Family::kMetrics, cw::KeyBuilder().text(kRun).text(kTap).u64(1).str(), value);
      (void)cw::MetricsTable(store).list(kRun, kTap);
      break;
    case 6:
      store.put(cw::Family::kEvents, cw::KeyBuilder().text(kRun).u64(1).str(), value);
      (void)cw::EventLog(store).list(kRun);
      break;
    case 7:
      store.put(cw::Family::kTransitions, tap_prefix(), value);
      (void)cw::TransitionTable(store).get(kRun, kTap);
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
