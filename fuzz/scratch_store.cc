#include "fuzz/scratch_store.h"

#include <filesystem>

namespace cw::fuzz {

ScratchStore::ScratchStore(uint64_t reset_every) : reset_every_(reset_every) { reopen(); }

Store& ScratchStore::next() {
  if (++uses_ % reset_every_ == 0) reopen();
  return *store_;
}

void ScratchStore::reopen() {
  store_.reset();
  const std::string db = dir_.path() + "/store";
  std::filesystem::remove_all(db);
  StoreOptions options;
  options.sync_writes = false;
  store_ = Store::open(db, options);
}

}  // namespace cw::fuzz
