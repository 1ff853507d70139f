// CPU time of each thread of this process, from /proc/self/task (Linux):
// what the hooks' own threads cost, apart from the training thread. Unlike
// wall time or the whole process's CPU time, this does not move with the
// speed the machine happens to run the training thread at.
#ifndef CW_BENCH_COMMON_THREAD_CPU_H_
#define CW_BENCH_COMMON_THREAD_CPU_H_

#include <map>
#include <sys/types.h>

namespace cw::bench {

// Thread id → CPU seconds (user + system) so far. Empty off Linux.
std::map<pid_t, double> thread_cpu_seconds();

// The calling thread's id.
pid_t current_thread_id();

// Between two readings: CPU seconds of `thread`, and of every other thread
// (including threads that started or ended in between).
struct ThreadCpuSplit {
  double thread = 0;
  double others = 0;
};
ThreadCpuSplit split_thread_cpu(const std::map<pid_t, double>& before, const std::map<pid_t, double>& after,
                                pid_t thread);

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_THREAD_CPU_H_
