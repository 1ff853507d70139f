#include "bench/ingest/copy_baseline.h"

#include <sys/mman.h>

#include <chrono>
#include <cerrno>
#include <stdexcept>
#include <cstring>
#include <memory>

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps the compiler from dropping a copy nobody reads.
void keep(const void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

// An anonymous mapping whose 2 MiB-aligned interior is advised to use
// transparent huge pages; unmapped when it goes away.
class HugePageBuffer {
 public:
  explicit HugePageBuffer(std::size_t bytes) : size_(bytes + kHugePage) {
    base_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
    const auto address = reinterpret_cast<std::uintptr_t>(base_);
    data_ = reinterpret_cast<char*>((address + kHugePage - 1) / kHugePage * kHugePage);
    madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: a kernel without THP still works
  }
  ~HugePageBuffer() { munmap(base_, size_); }
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  char* data() const { return data_; }

 private:
  static constexpr std::size_t kHugePage = 2u << 20;
  std::size_t size_;
  void* base_;
  char* data_;
};

}  // namespace

CopyTimes time_copies(const std::string& source, int repeats) {
  CopyTimes times;
  const std::size_t bytes = source.size();
  std::unique_ptr<char[]> warm(new char[bytes]);
  std::memset(warm.get(), 0, bytes);
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    std::memcpy(warm.get(), source.data(), bytes);
    keep(warm.get());
    times.warm_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    std::unique_ptr<char[]> fresh(new char[bytes]);
    std::memcpy(fresh.get(), source.data(), bytes);
    keep(fresh.get());
    times.fresh_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    HugePageBuffer fresh(bytes);
    std::memcpy(fresh.data(), source.data(), bytes);
    keep(fresh.data());
    times.huge_page_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return times;
}

}  // namespace cw::bench
