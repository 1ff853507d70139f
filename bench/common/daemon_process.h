// The real conceptwatchd as a child process on free loopback ports with its
// own data directory. The destructor stops it (SIGTERM, wait, SIGKILL after
// a grace period), and the child dies with the benchmark if that is killed.
#ifndef CW_BENCH_COMMON_DAEMON_PROCESS_H_
#define CW_BENCH_COMMON_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace cw::bench {

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_loopback_port();

class DaemonProcess {
 public:
  // Starts `executable` with --data-dir `data_dir` and `extra_args` (e.g.
  // {"--store-only"}, or {"--config", path}); its output goes to `log_path`.
  // Throws std::runtime_error if it cannot be started.
  DaemonProcess(const std::string& executable, const std::string& data_dir, const std::string& log_path,
                const std::vector<std::string>& extra_args);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  const std::string& ingest_endpoint() const { return ingest_endpoint_; }
  const std::string& query_endpoint() const { return query_endpoint_; }
  // Throws std::runtime_error with the end of the daemon's log if it exited.
  void check_alive();
  // Polls `done` until it holds; throws if the daemon exits first or after
  // 20 s ("conceptwatchd did not <what> within 20 s"). For set-up such as a
  // publisher's Hello round trip, which is not what a benchmark times.
  void wait_for(const std::function<bool()>& done, const std::string& what);
  // Stops it and returns its exit status (0 after a clean SIGTERM shutdown).
  int stop();

 private:
  std::string log_tail() const;

  std::string log_path_;
  std::string ingest_endpoint_;
  std::string query_endpoint_;
  pid_t pid_ = -1;
};

}  // namespace cw::bench

#endif  // CW_BENCH_COMMON_DAEMON_PROCESS_H_
