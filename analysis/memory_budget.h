// What the crosscoder trainers may hold in memory at once ([analysis]
// memory_cap_bytes), shared by the pool's threads. A tap's turn reserves
// its footprint (analysis/training_footprint.h) before it loads anything
// from the store and gives it back when its crosscoder is evicted again.
// Reservations are served first come, first served: a large one waits
// until enough is free and smaller ones queued behind it wait too, so it
// never starves. One larger than the whole cap is refused at once: that
// tap cannot train under this cap, and its status says so.
#ifndef CW_ANALYSIS_MEMORY_BUDGET_H_
#define CW_ANALYSIS_MEMORY_BUDGET_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

namespace cw {

class MemoryBudget {
 public:
  // 0: half the machine's physical memory.
  explicit MemoryBudget(uint64_t cap_bytes);

  // Holds its bytes until destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.budget_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

   private:
    friend class MemoryBudget;
    Lease(MemoryBudget* budget, uint64_t bytes) : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_;
    uint64_t bytes_;
  };

  // Waits (in turn) until `bytes` fit beside the other leases. nullopt when
  // `bytes` exceed the cap, or when `stop` is set while waiting.
  std::optional<Lease> reserve(uint64_t bytes, const std::atomic<bool>& stop);

  uint64_t cap() const { return cap_; }
  // Returns what the allocator keeps of freed small blocks to the system
  // (after a turn: its many snapshot-sized buffers).
  static void give_back_freed_memory();
  // {"cap_bytes", "reserved_bytes", "peak_reserved_bytes", "waiting"}.
  nlohmann::json status() const;

 private:
  void release(uint64_t bytes);

  const uint64_t cap_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  uint64_t reserved_ = 0;
  uint64_t peak_ = 0;
  uint64_t next_ticket_ = 0;
  std::deque<uint64_t> waiting_;  // tickets, first come first
};

}  // namespace cw

#endif  // CW_ANALYSIS_MEMORY_BUDGET_H_
