#include "analysis/trainer_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cw {

TrainerPriority parse_trainer_priority(const std::string& name) {
  if (name == "idle") return TrainerPriority::kIdle;
  if (name == "low") return TrainerPriority::kLow;
  if (name == "normal") return TrainerPriority::kNormal;
  throw std::invalid_argument("trainer priority '" + name + "': use idle, low or normal");
}

const char* trainer_priority_name(TrainerPriority priority) {
  switch (priority) {
    case TrainerPriority::kIdle: return "idle";
    case TrainerPriority::kLow: return "low";
    case TrainerPriority::kNormal: return "normal";
  }
  return "?";
}

std::string apply_trainer_priority_to_this_thread(TrainerPriority priority) {
  // Linux schedules threads individually: given a thread id, both calls
  // change that thread alone, not the daemon's ingest or query threads.
  if (priority == TrainerPriority::kNormal) return "";
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  if (priority == TrainerPriority::kIdle) {
    const sched_param param{};  // SCHED_IDLE takes static priority 0
    if (::sched_setscheduler(tid, SCHED_IDLE, &param) != 0) return std::string("SCHED_IDLE: ") + std::strerror(errno);
    return "";
  }
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19) != 0) return std::string("nice 19: ") + std::strerror(errno);
  return "";
}

}  // namespace cw
