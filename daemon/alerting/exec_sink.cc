#include "daemon/alerting/exec_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace cw {

using SteadyClock = std::chrono::steady_clock;

namespace {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string label(const Alert& alert, const char* name) {
  auto it = alert.labels.find(name);
  return it == alert.labels.end() ? std::string() : it->second;
}

// The daemon's environment with the CW_ALERT_* variables replaced.
std::vector<std::string> child_environment(const Alert& alert) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry)
    if (std::strncmp(*entry, "CW_ALERT_", 9) != 0) env.emplace_back(*entry);
  env.push_back("CW_ALERT_NAME=" + label(alert, "alertname"));
  env.push_back(std::string("CW_ALERT_STATUS=") + alert_status_name(alert.status));
  env.push_back("CW_ALERT_RUN=" + label(alert, "run"));
  env.push_back("CW_ALERT_SEVERITY=" + label(alert, "severity"));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Writes `data` to the non-blocking `fd` until done, the reader goes away
// (EPIPE: not an error, the program may ignore its stdin) or `deadline`.
// SIGPIPE is blocked meanwhile and a pending one consumed, so a program
// that exits early cannot kill the daemon.
bool write_until(int fd, const std::string& data, SteadyClock::time_point deadline) {
  sigset_t pipe_signal, old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  size_t written = 0;
  bool in_time = true;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
      if (left <= 0) {
        in_time = false;
        break;
      }
      pollfd wait_writable{fd, POLLOUT, 0};
      ::poll(&wait_writable, 1, static_cast<int>(left));
      continue;
    }
    if (n < 0 && errno == EPIPE) {
      timespec zero{};
      sigtimedwait(&pipe_signal, nullptr, &zero);
    }
    break;
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return in_time;
}

}  // namespace

ExecSink::ExecSink(ExecOptions options) : options_(std::move(options)) {
  if (options_.argv.empty() || options_.argv[0].empty())
    throw std::invalid_argument("exec alert sink: command must name a program");
}

std::string ExecSink::name() const {
  std::string text = "exec";
  for (const std::string& arg : options_.argv) text += " " + arg;
  return text;
}

void ExecSink::deliver(const Alert& alert) {
  const std::string& program = options_.argv[0];
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("exec " + program + ": pipe: " + std::strerror(errno));
  Fd read_end(fds[0]), write_end(fds[1]);
  ::fcntl(write_end.get(), F_SETFL, ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.get(), STDIN_FILENO);
  // Own process group, so a timeout kills what it started too; default
  // signals and an empty mask, whatever the daemon's thread had.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv = options_.argv;
  std::vector<std::string> env = child_environment(alert);
  std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(env);
  pid_t pid = -1;
  int error = posix_spawnp(&pid, program.c_str(), &actions, &attributes, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error("exec " + program + ": cannot start: " + std::strerror(error));
  read_end.reset();

  auto deadline = SteadyClock::now() + options_.timeout;
  write_until(write_end.get(), alert_to_json(alert).dump() + "\n", deadline);
  write_end.reset();  // EOF on the program's stdin

  int status = 0;
  for (;;) {
    pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid) break;
    if (waited < 0 && errno != EINTR) throw std::runtime_error("exec " + program + ": waitpid: " + std::strerror(errno));
    if (SteadyClock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw std::runtime_error("exec " + program + ": still running after " + std::to_string(options_.timeout.count()) +
                               " ms; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFSIGNALED(status))
    throw std::runtime_error("exec " + program + ": killed by signal " + std::to_string(WTERMSIG(status)));
  if (WEXITSTATUS(status) != 0)
    throw std::runtime_error("exec " + program + ": exited with status " + std::to_string(WEXITSTATUS(status)));
}

}  // namespace cw
