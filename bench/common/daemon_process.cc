#include "bench/common/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cw::bench {

int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks an unused port
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    throw std::runtime_error("cannot find a free port on 127.0.0.1: " + why);
  }
  close(fd);
  return ntohs(address.sin_port);
}

DaemonProcess::DaemonProcess(const std::string& executable, const std::string& data_dir, const std::string& log_path,
                             const std::vector<std::string>& extra_args)
    : log_path_(log_path) {
  if (access(executable.c_str(), X_OK) != 0) {
    throw std::runtime_error("conceptwatchd not found at '" + executable + "' (build it, or pass --daemon PATH)");
  }
  ingest_endpoint_ = "tcp://127.0.0.1:" + std::to_string(free_loopback_port());
  query_endpoint_ = "tcp://127.0.0.1:" + std::to_string(free_loopback_port());
  std::vector<std::string> args = {executable, "--data-dir", data_dir, "--ingest", ingest_endpoint_,
                                   "--query", query_endpoint_, "--log-level", "warn"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot write '" + log_path + "': " + std::strerror(errno));
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(log_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned daemon if the benchmark dies
    if (getppid() != parent) _exit(127);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) stop();
}

void DaemonProcess::check_alive() {
  if (pid_ <= 0) throw std::runtime_error("conceptwatchd is not running");
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    throw std::runtime_error("conceptwatchd exited (status " + std::to_string(status) + "); its log ends:\n" + log_tail());
  }
}

void DaemonProcess::wait_for(const std::function<bool()>& done, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    check_alive();
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("conceptwatchd did not " + what + " within 20 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int DaemonProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string DaemonProcess::log_tail() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace cw::bench
