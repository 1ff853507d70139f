#include "analysis/memory_budget.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace cw {
namespace {

uint64_t half_physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t(4) << 30;  // unknown: 4 GiB
  return uint64_t(pages) * uint64_t(page) / 2;
}

}  // namespace

MemoryBudget::MemoryBudget(uint64_t cap_bytes) : cap_(cap_bytes ? cap_bytes : half_physical_memory()) {
  // glibc raises its mmap threshold to the size of each large block freed
  // (up to 32 MiB), after which a turn's tensors come from the heap and
  // stay resident when freed: one tap of 40 snapshots at a 150 MiB cap
  // grew the daemon by 520 MiB. Above a fixed 4 MiB every large buffer is
  // its own mapping and goes back when freed (+150 MiB, and the same update
  // time; 1 MiB made updates 1.8x slower). docs/ARCHITECTURE.md "Trainer
  // pool and memory cap".
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

void MemoryBudget::give_back_freed_memory() { malloc_trim(0); }

MemoryBudget::Lease::~Lease() {
  if (budget_) budget_->release(bytes_);
}

std::optional<MemoryBudget::Lease> MemoryBudget::reserve(uint64_t bytes, const std::atomic<bool>& stop) {
  if (bytes > cap_) return std::nullopt;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  // The wait wakes on every release and every 100 ms to look at `stop`
  // (the daemon stopping does not wait for a turn holding the memory).
  while (!(waiting_.front() == ticket && reserved_ + bytes <= cap_)) {
    if (stop) {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
      freed_.notify_all();  // the one behind may be first now
      return std::nullopt;
    }
    freed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  waiting_.pop_front();
  reserved_ += bytes;
  peak_ = std::max(peak_, reserved_);
  freed_.notify_all();  // the next in line may fit beside this one
  return Lease(this, bytes);
}

void MemoryBudget::release(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  reserved_ -= bytes;
  freed_.notify_all();
}

nlohmann::json MemoryBudget::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {{"cap_bytes", cap_}, {"reserved_bytes", reserved_}, {"peak_reserved_bytes", peak_},
          {"waiting", waiting_.size()}};
}

}  // namespace cw
