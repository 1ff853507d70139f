// The real conceptwatchd as a child process, for end-to-end tests: its own
// temporary data directory, free ports on 127.0.0.1, started and waited for
// until it answers a "status" query, stoppable with SIGTERM or SIGKILL and
// restartable on the same data directory and ports. The destructor kills
// whatever is still running and removes the directory.
#ifndef CW_TESTS_SUPPORT_DAEMON_PROCESS_H_
#define CW_TESTS_SUPPORT_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/client_keys.h"
#include "tests/support/temp_dir.h"

namespace cw::testing {

// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's
// pick for port 0; another process could take it before we bind it, which
// start() reports as the daemon failing to start).
int free_port();

class DaemonProcess {
 public:
  // `extra_args` are appended to the command line (e.g. --config FILE).
  explicit DaemonProcess(std::vector<std::string> extra_args = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon and waits until it answers "status". Throws
  // std::runtime_error (with the daemon's log) if it exits or stays silent.
  // 60 s: a daemon answers in ~1 s; only a machine loaded by parallel
  // tests (LibTorch loading beside a headless Chromium) has taken over 20.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Starts the daemon without waiting for it (a crash loop kills it at
  // any moment, start-up included).
  void spawn();
  // SIGTERM, then waits for the exit; returns the exit status (-1 if it
  // had to be killed because it did not stop in time).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL and reap.
  void kill();
  // True while the child runs (reaps it if it has exited).
  bool alive();

  // Replaces the extra arguments for the next start (e.g. --read-only).
  void set_extra_args(std::vector<std::string> extra_args) { extra_args_ = std::move(extra_args); }

  // The keys query() (and so start()) uses, for a daemon with [auth] keys.
  void use_client_keys(ClientKeyFiles keys) { keys_ = std::move(keys); }

  // One query on the query socket; throws on timeout or a refused query.
  nlohmann::json query(const std::string& command, const nlohmann::json& params = nlohmann::json::object(),
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  pid_t pid() const { return pid_; }  // -1 before start()
  const std::string& data_dir() const { return data_dir_; }
  const std::string& ingest_endpoint() const { return ingest_endpoint_; }
  const std::string& query_endpoint() const { return query_endpoint_; }
  // What the daemon wrote to stdout and stderr, all its lives together.
  std::string log() const;
  // Where tests may put files of their own (configs); removed with the rest.
  const TempDir& scratch() const { return dir_; }

 private:
  TempDir dir_;
  std::string data_dir_;
  std::string log_path_;
  std::string ingest_endpoint_;
  std::string query_endpoint_;
  std::vector<std::string> extra_args_;
  ClientKeyFiles keys_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_DAEMON_PROCESS_H_
