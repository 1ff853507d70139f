// A buffer of whole pages straight from the kernel (mmap), not from malloc.
//
// Why: the publisher holds copies of snapshots until the daemon acknowledges
// them, and with the daemon down it holds them for the rest of the run. Made
// with new[], these long-lived 100 KB – MB blocks sat in the training job's
// malloc heap, and glibc's heuristics (its dynamic mmap threshold and heap
// trimming) then served the job's own tensor allocations with about twice as
// many fresh pages: tinygpt with the daemon down took 2.19 M page faults
// per 600 steps against 1.03 M without hooks, and ran ~20% slower
// (cw_bench_tinygpt, mode (d)). Pages from mmap leave the job's heap as it was.
#ifndef CW_HOOKS_PAGE_BUFFER_H_
#define CW_HOOKS_PAGE_BUFFER_H_

#include <cstddef>

namespace cw {

class PageBuffer {
 public:
  PageBuffer() = default;
  // Throws std::bad_alloc when the kernel refuses the mapping.
  explicit PageBuffer(std::size_t size);
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release();

  char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cw

#endif  // CW_HOOKS_PAGE_BUFFER_H_
