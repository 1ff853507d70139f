#include "ingest/pending_usage.h"

namespace cw {

// Per peer first: one connection cannot take all of the daemon's room, and
// thousands of tiny arrays are refused like a few huge ones.
std::string PendingUsage::refusal(const std::string& peer, uint64_t bytes) const {
  auto found = peers_.find(peer);
  const Usage mine = found == peers_.end() ? Usage{} : found->second;
  if (mine.arrays + 1 > limits_.max_pending_arrays_per_peer)
    return "this peer has " + std::to_string(mine.arrays) + " partial arrays already (max_pending_arrays_per_peer " +
           std::to_string(limits_.max_pending_arrays_per_peer) + ")";
  if (mine.bytes + bytes > limits_.max_pending_bytes_per_peer)
    return "this peer's partial arrays hold " + std::to_string(mine.bytes) + " bytes already, this one " +
           std::to_string(bytes) + " more (max_pending_bytes_per_peer " + std::to_string(limits_.max_pending_bytes_per_peer) +
           ")";
  if (total_.arrays + 1 > limits_.max_pending_arrays)
    return "the daemon holds " + std::to_string(total_.arrays) + " partial arrays already (max_pending_arrays " +
           std::to_string(limits_.max_pending_arrays) + ")";
  if (total_.bytes + bytes > limits_.max_pending_bytes)
    return "the daemon holds " + std::to_string(total_.bytes) + " bytes of partial snapshots already (max_pending_bytes " +
           std::to_string(limits_.max_pending_bytes) + ")";
  return {};
}

void PendingUsage::add(const std::string& peer, uint64_t bytes) {
  Usage& mine = peers_[peer];
  ++mine.arrays;
  mine.bytes += bytes;
  ++total_.arrays;
  total_.bytes += bytes;
}

void PendingUsage::remove(const std::string& peer, uint64_t bytes) {
  auto mine = peers_.find(peer);
  if (--mine->second.arrays == 0) {
    peers_.erase(mine);
  } else {
    mine->second.bytes -= bytes;
  }
  --total_.arrays;
  total_.bytes -= bytes;
}

}  // namespace cw
