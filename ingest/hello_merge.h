// What a Hello for a run the store already has may change. A job that
// restarts sends its Hello again, possibly with taps or tasks it did not
// have before: those are added. What is already declared (a tap's d_model,
// the run's dtype, a task's tokens and metric, a stored vocabulary) is what
// the stored snapshots were checked against, so a Hello that changes it is
// refused, naming the first difference. The probe tokens are compared by
// hash before this (Ingest answers probeMismatch).
#ifndef CW_INGEST_HELLO_MERGE_H_
#define CW_INGEST_HELLO_MERGE_H_

#include <string>
#include <vector>

#include "schema/records.h"

namespace cw {

struct HelloMerge {
  std::string conflict;           // what differs, bounded in size; empty when nothing does
  RunDescription merged;          // the stored declarations plus the Hello's additions
  bool run_changed = false;       // taps or tasks were added: rewrite the run record
  bool vocabulary_added = false;  // the Hello brings a vocabulary where none is stored
};

// `stored` is the run as its record keeps it (no probe tokens);
// `stored_vocabulary` is read only when `hello` has a vocabulary, so a
// Hello without one costs no read of the probe set. Linear in the number
// of taps and tasks (a Hello may list tens of thousands).
HelloMerge merge_hello(const RunDescription& stored, const std::vector<std::string>* stored_vocabulary,
                       const RunDescription& hello);

}  // namespace cw

#endif  // CW_INGEST_HELLO_MERGE_H_
