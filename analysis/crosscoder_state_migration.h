// The migration of stored crosscoder states: a state of an older format
// (1 or 2, a LibTorch pickle) is loaded and saved again in the current
// format (3, safetensors: crosscoder/crosscoder_state.h), so that the CLI
// reads every state without LibTorch. conceptwatchd runs it when it opens
// its data directory.
#ifndef CW_ANALYSIS_CROSSCODER_STATE_MIGRATION_H_
#define CW_ANALYSIS_CROSSCODER_STATE_MIGRATION_H_

#include <string>
#include <vector>

#include "store/store.h"

namespace cw {

struct StateMigration {
  int migrated = 0;
  // "run/tap: why" for each state that would not load; it stays as it was
  // (the worker keeps it aside when it next starts, docs/STORE.md).
  std::vector<std::string> failed;
};

// Re-saves every state whose format is older than the current one.
// Loading and saving is exact (tests/crosscoder/crosscoder_state_test.cc):
// a migrated crosscoder resumes as the old one would have.
StateMigration migrate_crosscoder_states(Store& store);

}  // namespace cw

#endif  // CW_ANALYSIS_CROSSCODER_STATE_MIGRATION_H_
