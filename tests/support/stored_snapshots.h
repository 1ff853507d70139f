// What a store holds for a tap, checked against what a test published
// (testing::random_activations(array_seed(tap, step), ...)): the fault
// tests' "every acked snapshot stored once, byte-identical; nothing else".
#ifndef CW_TESTS_SUPPORT_STORED_SNAPSHOTS_H_
#define CW_TESTS_SUPPORT_STORED_SNAPSHOTS_H_

#include <cstdint>
#include <set>
#include <string>

#include "schema/records.h"

namespace cw::testing {

// Opens the store in `data_dir` read-only (no daemon may hold it) and
// returns "" when (run, tap) holds exactly `steps`, each once, its bytes
// those published for it; otherwise what differs, for a test's message.
// Copies under other keys are found by counting the run's data keys: give
// the run this one tap.
std::string check_stored_exactly(const std::string& data_dir, const RunDescription& run, const std::string& tap,
                                 const std::set<uint64_t>& steps);

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_STORED_SNAPSHOTS_H_
