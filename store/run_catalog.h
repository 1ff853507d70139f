// Runs and their probe sets, as the daemon learned them from Hello messages.
#ifndef CW_STORE_RUN_CATALOG_H_
#define CW_STORE_RUN_CATALOG_H_

#include <optional>
#include <string>
#include <vector>

#include "schema/record_codec.h"
#include "schema/records.h"
#include "store/store.h"

namespace cw {

using RunEntry = RunRecordFields;

class RunCatalog {
 public:
  explicit RunCatalog(Store& store) : store_(store) {}

  // Records the run and its probe set together (synced).
  void put(const RunDescription& run, uint64_t created_unix_ms);
  // Rewrites the run record only (synced), keeping the stored probe set:
  // for taps or tasks added to a run whose probe set has not changed.
  void put_record(const RunDescription& run, uint64_t created_unix_ms);
  std::optional<RunEntry> get(const std::string& run) const;
  // A run record that cannot be decoded (corrupt) makes list() throw, or,
  // with `unreadable`, is left out and described there: so that one bad
  // record does not hide every other run (or stop the daemon).
  struct Unreadable {
    std::string run;    // from the record's key
    std::string error;  // "corrupt run record: ..."
  };
  std::vector<RunEntry> list(std::vector<Unreadable>* unreadable = nullptr) const;
  std::optional<ProbeSet> probe(const std::string& run) const;

 private:
  Store& store_;
};

}  // namespace cw

#endif  // CW_STORE_RUN_CATALOG_H_
