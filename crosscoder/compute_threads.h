// How many threads LibTorch's own kernels and the BLAS behind them use.
// torch::set_num_threads alone does not bound Debian's libopenblas0-pthread,
// which keeps its own pool: a "1-thread" crosscoder step ran its GEMMs on
// both cores, and a "1-thread" tinygpt kept a second thread spinning (1.2 s
// user + 2.9 s system CPU per 4.5 s of training) beside the job.
#ifndef CW_CROSSCODER_COMPUTE_THREADS_H_
#define CW_CROSSCODER_COMPUTE_THREADS_H_

namespace cw {

// torch::set_num_threads(threads), and openblas_set_num_threads(threads)
// when the BLAS is OpenBLAS (looked up at run time, so any BLAS works).
void set_compute_threads(int threads);

}  // namespace cw

#endif  // CW_CROSSCODER_COMPUTE_THREADS_H_
