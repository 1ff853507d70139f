#include "tests/support/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "query/query_protocol.h"

#ifndef CW_DAEMON_PATH
#error "CW_DAEMON_PATH must name the conceptwatchd binary"
#endif

namespace cw::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string endpoint(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("free_port: socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: cannot bind a port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

DaemonProcess::DaemonProcess(std::vector<std::string> extra_args)
    : data_dir_(dir_.sub("data")),
      log_path_(dir_.sub("conceptwatchd.log")),
      extra_args_(std::move(extra_args)) {
  const int ingest_port = free_port();
  int query_port = free_port();
  while (query_port == ingest_port) query_port = free_port();
  ingest_endpoint_ = endpoint(ingest_port);
  query_endpoint_ = endpoint(query_port);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) kill();
}

void DaemonProcess::start(std::chrono::milliseconds timeout) {
  spawn();
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "no answer";
  while (Clock::now() < deadline) {
    if (!alive()) {
      throw std::runtime_error("conceptwatchd exited with status " + std::to_string(exit_status_) +
                               " while starting; its log:\n" + log());
    }
    try {
      query("status", nlohmann::json::object(), std::chrono::milliseconds(250));
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  kill();
  throw std::runtime_error("conceptwatchd did not answer status within " + std::to_string(timeout.count()) +
                           " ms (" + last_error + "); its log:\n" + log());
}

void DaemonProcess::spawn() {
  if (pid_ > 0) throw std::logic_error("DaemonProcess::start: already running");
  std::vector<std::string> args = {CW_DAEMON_PATH,   "--data-dir", data_dir_,  "--ingest",
                                   ingest_endpoint_, "--query",    query_endpoint_, "--log-level", "warn"};
  // Tests run side by side (ctest -j): a trainer at the default idle
  // priority would get only the CPU a neighbouring test leaves, and updates
  // budgeted in seconds would train a varying number of steps.
  if (std::find(extra_args_.begin(), extra_args_.end(), "--crosscoder-priority") == extra_args_.end())
    args.insert(args.end(), {"--crosscoder-priority", "normal"});
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    // The child: dies with the test process, whatever way that ends.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
}

bool DaemonProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return false;
}

int DaemonProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!alive()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  return -1;
}

void DaemonProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_status_ = 128 + SIGKILL;
  pid_ = -1;
}

nlohmann::json DaemonProcess::query(const std::string& command, const nlohmann::json& params,
                                    std::chrono::milliseconds timeout) const {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  cw::use_client_keys(socket.handle(), keys_);
  socket.connect(query_endpoint_);
  const Frame frame = encode_query_frame(command, params);
  socket.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::none);
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 1, timeout) == 0) {
    throw std::runtime_error("no reply to '" + command + "' from " + query_endpoint_ + " within " +
                             std::to_string(timeout.count()) + " ms");
  }
  zmq::message_t reply;
  (void)socket.recv(reply, zmq::recv_flags::none);
  return decode_reply_frame(reply.data(), reply.size());
}

std::string DaemonProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cw::testing
