#include "bench/ingest/copy_baseline.h"

#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

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
    madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: without THP it is a plain buffer
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

CopyBaseline::CopyBaseline(const std::string& source) : source_(source), warm_(new char[source.size()]) {
  std::memset(warm_.get(), 0, source.size());
}

CopyBaseline::~CopyBaseline() = default;

double CopyBaseline::warm_copy_seconds() {
  const auto start = Clock::now();
  std::memcpy(warm_.get(), source_.data(), source_.size());
  keep(warm_.get());
  return seconds_since(start);
}

double CopyBaseline::fresh_copy_seconds() {
  const auto start = Clock::now();
  std::unique_ptr<char[]> fresh(new char[source_.size()]);
  std::memcpy(fresh.get(), source_.data(), source_.size());
  keep(fresh.get());
  return seconds_since(start);
}

double CopyBaseline::huge_page_copy_seconds() {
  const auto start = Clock::now();
  HugePageBuffer fresh(source_.size());
  std::memcpy(fresh.data(), source_.data(), source_.size());
  keep(fresh.data());
  return seconds_since(start);
}

}  // namespace cw::bench
