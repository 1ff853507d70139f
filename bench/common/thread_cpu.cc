#include "bench/common/thread_cpu.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace cw::bench {

std::map<pid_t, ThreadCpu> thread_cpu_seconds() {
  std::map<pid_t, ThreadCpu> out;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return out;
  const double ticks = double(sysconf(_SC_CLK_TCK));
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream stat(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // the thread ended meanwhile
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14 and stime 15.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    double user = 0, system = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) user = std::stod(field);
      if (i == 15) system = std::stod(field);
    }
    const auto open = line.find('(');
    out[pid_t(std::stol(entry->d_name))] = {line.substr(open + 1, close - open - 1), (user + system) / ticks};
  }
  closedir(dir);
  return out;
}

bool is_hooks_thread(const std::string& name) {
  return name.rfind("cw-publisher", 0) == 0 || name.rfind("ZMQbg", 0) == 0;
}

pid_t current_thread_id() { return pid_t(syscall(SYS_gettid)); }

ThreadCpuSplit split_thread_cpu(const std::map<pid_t, ThreadCpu>& before, const std::map<pid_t, ThreadCpu>& after,
                                pid_t thread) {
  ThreadCpuSplit split;
  for (const auto& [id, now] : after) {
    const auto it = before.find(id);
    const double used = now.seconds - (it == before.end() ? 0 : it->second.seconds);
    if (id == thread) {
      split.thread += used;
    } else {
      (is_hooks_thread(now.name) ? split.hooks : split.others) += used;
    }
  }
  return split;
}

}  // namespace cw::bench
