// How a process that trains with LibTorch on CPU should let glibc's malloc
// treat freed tensor memory. Torch's CPU allocator takes every tensor from
// malloc and frees it when the last reference goes, so a training step
// frees and allocates the same few MiB many times over. glibc's defaults
// give such blocks back to the kernel (munmap, or trimming the heap's top)
// and take them again as fresh zeroed pages, and that page traffic was most
// of the time: tinygpt's 300-step repeat run took 16.8 s (4.3 s of it in the
// kernel) and 7.9 s (0.4 s) with freed memory kept as below (docs/CROSSCODER.md,
// "Freed tensor memory").
#ifndef CW_CROSSCODER_TENSOR_HEAP_H_
#define CW_CROSSCODER_TENSOR_HEAP_H_

namespace cw {

// Keeps blocks under 16 MiB in the heap when freed (they are reused, not
// unmapped) and returns the heap's free top to the kernel only past 64 MiB.
// Larger blocks (a stored snapshot, a big dictionary's [batch, features]
// pre-activation) are still mapped and unmapped on their own, so what the
// process holds beyond its live memory stays within tens of MiB per malloc
// arena. Call once at the start of main(), before threads start; only
// programs of this project call it, never the hooks (they run inside the
// user's training job, whose allocator is the job's business). Throws
// std::runtime_error if malloc refuses a setting.
void keep_freed_tensor_memory();

}  // namespace cw

#endif  // CW_CROSSCODER_TENSOR_HEAP_H_
