// A real RocksDB store (store/store.h) in a fresh directory under $TMPDIR,
// removed with the object, for the fuzzers that write: a fuzzer runs
// millions of inputs, so the store is wiped and reopened every
// `reset_every` uses to keep its size and its open-time state bounded.
// Writes are not synced: a crash of the fuzzer loses nothing that matters,
// and an fsync per stored snapshot would cut the executions per second.
#ifndef CW_FUZZ_SCRATCH_STORE_H_
#define CW_FUZZ_SCRATCH_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace cw::fuzz {

class ScratchStore {
 public:
  explicit ScratchStore(uint64_t reset_every);

  // The store for one input: a fresh one every `reset_every` calls.
  Store& next();
  Store& store() { return *store_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  void reopen();

  testing::TempDir dir_;
  const uint64_t reset_every_;
  uint64_t uses_ = 0;
  std::unique_ptr<Store> store_;
};

}  // namespace cw::fuzz

#endif  // CW_FUZZ_SCRATCH_STORE_H_
