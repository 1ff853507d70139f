#include "alerts/exec_sink.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "schema/json_text.h"

extern char** environ;

namespace cw {

namespace {

using Clock = std::chrono::steady_clock;

std::string env_name(const std::string& prefix, const std::string& key) {
  std::string name = prefix;
  for (unsigned char c : key) name += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
  return name;
}

std::string errno_text(const std::string& what, int error) { return what + ": " + std::strerror(error); }

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Writes all of `data` to a non-blocking pipe before `deadline`. A reader
// that exits without reading is fine (EPIPE): the command decides what
// stdin it needs. SIGPIPE is blocked for this thread meanwhile and a pending
// one consumed, so the daemon is not killed by it.
void write_stdin(int fd, const std::string& data, Clock::time_point deadline) {
  sigset_t pipe_only, old_mask;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  size_t done = 0;
  bool broken = false;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno == EAGAIN) {
      pollfd pfd{fd, POLLOUT, 0};
      if (::poll(&pfd, 1, remaining_ms(deadline)) == 0) break;  // the wait for exit reports the timeout
    } else if (errno != EINTR) {
      broken = errno == EPIPE;
      break;
    }
  }
  if (broken) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// posix_spawn's attributes and file actions, released on every path out.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

std::vector<std::string> alert_environment(const Alert& alert) {
  std::vector<std::string> env = {
      "CW_ALERT_NAME=" + alert.name(),
      std::string("CW_ALERT_STATUS=") + alert_status_name(alert.status),
      "CW_ALERT_FINGERPRINT=" + alert.fingerprint(),
      "CW_ALERT_STARTS_AT=" + format_rfc3339(alert.starts_at),
      "CW_ALERT_ENDS_AT=" + (alert.ends_at ? format_rfc3339(*alert.ends_at) : std::string()),
      "CW_ALERT_GENERATOR_URL=" + alert.generator_url,
  };
  for (const auto& [key, value] : alert.labels) env.push_back(env_name("CW_ALERT_LABEL_", key) + "=" + value);
  for (const auto& [key, value] : alert.annotations)
    env.push_back(env_name("CW_ALERT_ANNOTATION_", key) + "=" + value);
  return env;
}

ExecSink::ExecSink(ExecOptions options) : options_(std::move(options)) {
  if (options_.command.empty() || options_.command[0].empty())
    throw std::invalid_argument("exec alert sink: command is empty");
  if (options_.shell && options_.command.size() != 1)
    throw std::invalid_argument("exec alert sink: with shell = true the command must be a single string");
  if (options_.timeout.count() <= 0) throw std::invalid_argument("exec alert sink: timeout must be positive");
}

void ExecSink::deliver(const Alert& alert) {
  // Everything the child needs is built before spawning: nothing allocates
  // between fork and exec.
  std::vector<std::string> args = options_.shell ? std::vector<std::string>{"/bin/sh", "-c", options_.command[0]}
                                                 : options_.command;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = alert_environment(alert);
  std::vector<char*> envp;
  for (char** entry = environ; entry && *entry; ++entry)
    if (std::strncmp(*entry, "CW_ALERT_", 9) != 0) envp.push_back(*entry);
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("exec alert sink: pipe", errno));
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, pipe_fds[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, STDERR_FILENO, STDOUT_FILENO);
  // Its own process group, so a timeout kills what a shell started too; and
  // default signals, whatever this thread blocks.
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigfillset(&default_signals);
  posix_spawnattr_setsigmask(&setup.attr, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attr, &default_signals);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  bool search_path = args[0].find('/') == std::string::npos;
  int error = search_path ? posix_spawnp(&pid, args[0].c_str(), &setup.actions, &setup.attr, argv.data(), envp.data())
                          : posix_spawn(&pid, args[0].c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  ::close(pipe_fds[0]);
  if (error != 0) {
    ::close(pipe_fds[1]);
    throw std::runtime_error(errno_text("exec alert sink: cannot run " + args[0], error));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    child_ = pid;
  }
  auto deadline = Clock::now() + options_.timeout;
  ::fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
  write_stdin(pipe_fds[1], json_text(alert_to_json(alert)) + "\n", deadline);
  ::close(pipe_fds[1]);

  // Wait without reaping (WNOWAIT) so interrupt() never signals a reused pid.
  bool timed_out = false;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) break;
    if (Clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int status = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    child_ = 0;
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw std::runtime_error("exec alert sink: " + options_.command[0] + " ran past " + std::to_string(options_.timeout.count()) +
                             " ms, killed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("exec alert sink: " + options_.command[0] + " failed: " + describe_exit(status));
}

void ExecSink::interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  if (child_ > 0) ::kill(-child_, SIGKILL);
}

std::string ExecSink::describe() const { return "exec " + options_.command[0]; }

}  // namespace cw
