#include "analysis/trainer_rank_processes.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace cw {

std::string TrainerRankProcesses::default_program() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "conceptwatch-trainer";
  return (self.parent_path() / "conceptwatch-trainer").string();
}

TrainerRankProcesses::TrainerRankProcesses(std::string program, std::string host, int port, int world_size,
                                           double timeout_seconds)
    : program_(std::move(program)),
      host_(std::move(host)),
      port_(port),
      world_size_(world_size),
      timeout_seconds_(timeout_seconds) {
  if (::access(program_.c_str(), X_OK) != 0)
    throw std::runtime_error("trainer ranks: cannot run " + program_ +
                             " ([analysis] trainer_program; built beside conceptwatchd as conceptwatch-trainer)");
  std::lock_guard<std::mutex> lock(mu_);
  for (int r = 1; r < world_size_; ++r) {
    ranks_.push_back(Rank{r, 0, 0, {}});
    start(ranks_.back());
  }
  supervisor_ = std::thread([this] { supervise(); });
}

TrainerRankProcesses::~TrainerRankProcesses() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  supervisor_.join();
  for (auto& rank : ranks_) {
    if (rank.pid <= 0) continue;
    ::kill(rank.pid, SIGTERM);
    ::waitpid(rank.pid, nullptr, 0);
  }
}

void TrainerRankProcesses::start(Rank& rank) {
  const std::vector<std::string> args = {program_,
                                         "--rank",
                                         std::to_string(rank.rank),
                                         "--world-size",
                                         std::to_string(world_size_),
                                         "--store",
                                         host_ + ":" + std::to_string(port_),
                                         "--timeout-seconds",
                                         std::to_string(timeout_seconds_)};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::error("trainer ranks: cannot start rank {}: fork failed", rank.rank);
    return;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the daemon died before the line above
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  rank.pid = pid;
  ++rank.starts;
  spdlog::info("trainer ranks: started rank {} of {} (pid {})", rank.rank, world_size_, pid);
}

void TrainerRankProcesses::supervise() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& rank : ranks_) {
      if (rank.pid == 0) {
        // A second after it exited: not in a tight loop if one fails at once.
        if (now - rank.exited > std::chrono::seconds(1)) start(rank);
        continue;
      }
      int wstatus = 0;
      if (::waitpid(rank.pid, &wstatus, WNOHANG) != rank.pid) continue;
      spdlog::warn("trainer ranks: rank {} (pid {}) {} {}; restarting it in a second", rank.rank, rank.pid,
                   WIFSIGNALED(wstatus) ? "was killed by signal" : "exited with status",
                   WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
      rank.pid = 0;
      rank.exited = now;
    }
  }
}

nlohmann::json TrainerRankProcesses::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& rank : ranks_) out.push_back({{"rank", rank.rank}, {"pid", rank.pid}, {"starts", rank.starts}});
  return out;
}

}  // namespace cw
