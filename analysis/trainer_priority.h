// How the crosscoder's training thread is scheduled against everything else
// on the machine, above all the training job it watches. The daemon is a
// guest: by default its trainer runs under SCHED_IDLE, so it only gets CPU
// no other thread wants. Ingest and queries keep normal priority, so a
// job's publisher is always acked promptly.
#ifndef CW_ANALYSIS_TRAINER_PRIORITY_H_
#define CW_ANALYSIS_TRAINER_PRIORITY_H_

#include <string>

namespace cw {

enum class TrainerPriority {
  kIdle,    // SCHED_IDLE: runs only on otherwise idle CPU (the default)
  kLow,     // nice 19: still takes a small share (~1.5%) of a contended core
  kNormal,  // as any other thread
};

// "idle", "low" or "normal"; throws std::invalid_argument naming the choices.
TrainerPriority parse_trainer_priority(const std::string& name);
const char* trainer_priority_name(TrainerPriority priority);

// Applies `priority` to the calling thread (threads it starts later inherit
// it). Lowering needs no privilege; returns why it failed, or "" on success.
std::string apply_trainer_priority_to_this_thread(TrainerPriority priority);

}  // namespace cw

#endif  // CW_ANALYSIS_TRAINER_PRIORITY_H_
