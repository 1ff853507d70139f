// CPU time of each thread of this process, from /proc/self/task (Linux):
// what the hooks' own threads cost, apart from the training thread. Unlike
// wall time or the whole process's CPU time, this does not move with the
// speed the machine happens to run the training thread at.
#ifndef CW_BENCH_COMMON_THREAD_CPU_H_
#define CW_BENCH_COMMON_THREAD_CPU_H_

#include <map>
#include <string>
#include <sys/types.h>

namespace cw::bench {

struct ThreadCpu {
  std::string name;  // /proc's comm: "cw-publisher", "ZMQbg/IO/0", ...
  double seconds = 0;  // user + system so far
};

// Every thread of this process by id. Empty off Linux.
std::map<pid_t, ThreadCpu> thread_cpu_seconds();

// The hooks' own threads: the publisher's sender ("cw-publisher") and
// ZeroMQ's I/O and reaper threads ("ZMQbg/..."). A job's torch intra-op
// threads are named after the thread that started them, not so.
bool is_hooks_thread(const std::string& name);

// The calling thread's id.
pid_t current_thread_id();

// Between two readings: CPU seconds of `thread`, of the hooks' threads, and
// of every other thread (including threads that started or ended between).
struct ThreadCpuSplit {
  double thread = 0;
  double hooks = 0;
  double others = 0;
};
ThreadCpuSplit split_thread_cpu(const std::map<pid_t, ThreadCpu>& before, const std::map<pid_t, ThreadCpu>& after,
                                pid_t thread);

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_THREAD_CPU_H_
