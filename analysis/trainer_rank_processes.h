// The trainer ranks a daemon starts on its own machine (`[analysis]
// trainer_ranks` with spawn_trainer_ranks): one conceptwatch-trainer
// process per rank 1 … N−1, told where rank 0's store listens, each
// restarted a second after it exits (a rank that died fails the update it
// was in; the restarted one joins the next generation, and the update is
// retried: docs/SCALE_OUT.md "Trainer ranks"). The processes get SIGTERM
// when this object goes, and when the daemon dies (PR_SET_PDEATHSIG).
#ifndef CW_ANALYSIS_TRAINER_RANK_PROCESSES_H_
#define CW_ANALYSIS_TRAINER_RANK_PROCESSES_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw {

class TrainerRankProcesses {
 public:
  // Throws std::runtime_error when `program` is not an executable file.
  TrainerRankProcesses(std::string program, std::string host, int port, int world_size, double timeout_seconds);
  ~TrainerRankProcesses();
  // [{"rank", "pid", "starts"}] (pid 0 while one waits to be restarted).
  nlohmann::json status() const;
  // Where the daemon looks for conceptwatch-trainer by default: beside its
  // own executable.
  static std::string default_program();

 private:
  struct Rank {
    int rank;
    pid_t pid = 0;
    int starts = 0;
    std::chrono::steady_clock::time_point exited;
  };
  void start(Rank& rank);
  void supervise();

  std::string program_, host_;
  int port_, world_size_;
  double timeout_seconds_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Rank> ranks_;
  std::thread supervisor_;
};

}  // namespace cw

#endif  // CW_ANALYSIS_TRAINER_RANK_PROCESSES_H_
