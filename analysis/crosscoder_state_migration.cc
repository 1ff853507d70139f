#include "analysis/crosscoder_state_migration.h"

#include <spdlog/spdlog.h>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_state.h"
#include "store/analysis_tables.h"

namespace cw {

StateMigration migrate_crosscoder_states(Store& store) {
  StateMigration result;
  CrosscoderStateTable table(store);
  for (const auto& [run, tap] : table.list()) {
    try {
      const auto bytes = table.get(run, tap);
      if (!bytes || decode_crosscoder_state(*bytes).format == kCrosscoderStateFormat) continue;
      table.put(run, tap, Crosscoder::deserialize(*bytes).serialize());
      ++result.migrated;
    } catch (const std::exception& e) {
      result.failed.push_back(run + "/" + tap + ": " + e.what());
    }
  }
  if (result.migrated > 0)
    spdlog::info("re-saved {} crosscoder state(s) in format {}", result.migrated, kCrosscoderStateFormat);
  for (const auto& failure : result.failed) spdlog::warn("crosscoder state not migrated: {}", failure);
  return result;
}

}  // namespace cw
