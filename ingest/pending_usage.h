// How much room partially received arrays take, per peer and overall, by
// count and by the bytes their begins declared, against IngestLimits. Kept
// as arrays come and go, so a frame costs O(1) (issue 11: a walk over every
// partial array per frame cost 1 ms at 30,000 of them, and rising).
#ifndef CW_INGEST_PENDING_USAGE_H_
#define CW_INGEST_PENDING_USAGE_H_

#include <cstdint>
#include <string>
#include <unordered_map>

#include "ingest/ingest_limits.h"

namespace cw {

class PendingUsage {
 public:
  explicit PendingUsage(const IngestLimits& limits) : limits_(limits) {}

  // Why one more array of `bytes` from `peer` does not fit (naming the
  // limit and its [ingest] key), or empty when it does.
  std::string refusal(const std::string& peer, uint64_t bytes) const;
  void add(const std::string& peer, uint64_t bytes);
  void remove(const std::string& peer, uint64_t bytes);  // exactly what add() counted

  uint64_t arrays() const { return total_.arrays; }
  uint64_t bytes() const { return total_.bytes; }

 private:
  struct Usage {
    uint64_t arrays = 0;
    uint64_t bytes = 0;
  };
  const IngestLimits limits_;
  std::unordered_map<std::string, Usage> peers_;  // a peer without arrays has no entry
  Usage total_;
};

}  // namespace cw

#endif  // CW_INGEST_PENDING_USAGE_H_
