// cw_bench_cli: how long a `conceptwatch` command takes, start to exit,
// now that the CLI links no LibTorch. Times `conceptwatch --help` and
// `conceptwatch status` against a running conceptwatchd (--store-only, an
// empty data directory) beside the same-run baseline: conceptwatch-refit
// --help, a program of the same code base that links LibTorch (what every
// CLI command paid before). --before PATH adds an older CLI build's two
// commands. Runs are interleaved, so machine load hits every row alike.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/common/daemon_process.h"
#include "bench/common/sample_stats.h"
#include "bench/common/temp_dir.h"

extern char** environ;

namespace cw::bench {
namespace {

// Runs argv to its exit with stdout and stderr discarded; returns the
// wall-clock milliseconds. Throws if it does not exit 0.
double timed_run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot run " + args[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line;
    for (const auto& arg : args) line += arg + " ";
    throw std::runtime_error(line + "did not exit 0");
  }
  return ms;
}

struct Row {
  std::string label;
  std::vector<std::string> command;
  std::vector<double> ms;
};

}  // namespace
}  // namespace cw::bench

int main(int argc, char** argv) {
  using namespace cw::bench;
  std::string cli = CW_CLI_PATH, refit = CW_REFIT_PATH, before, daemon_path = CW_CONCEPTWATCHD_PATH;
  int repeats = 30;
  CLI::App app{"cw_bench_cli: CLI start-up, torch-free CLI vs the torch-linked refit program"};
  app.add_option("--cli", cli, "conceptwatch binary")->capture_default_str();
  app.add_option("--refit", refit, "conceptwatch-refit binary (the torch-linked baseline)")->capture_default_str();
  app.add_option("--before", before, "an older conceptwatch build to time as well");
  app.add_option("--daemon", daemon_path, "conceptwatchd binary")->capture_default_str();
  app.add_option("--repeats", repeats, "runs of each command")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    TempDir dir("", "cw_bench_cli");
    DaemonProcess daemon(daemon_path, dir.path() + "/data", dir.path() + "/daemon.log", {"--store-only"});
    const std::string endpoint = daemon.query_endpoint();
    auto status = [&](const std::string& program) {
      return std::vector<std::string>{program, "--endpoint", endpoint, "--data-dir", dir.path() + "/data", "status"};
    };
    daemon.wait_for(
        [&] {
          try {
            timed_run(status(cli));
            return true;
          } catch (const std::runtime_error&) {
            return false;
          }
        },
        "answer status");
    std::vector<Row> rows = {{"conceptwatch --help", {cli, "--help"}, {}},
                             {"conceptwatch status (daemon up)", status(cli), {}},
                             {"baseline: conceptwatch-refit --help (LibTorch)", {refit, "--help"}, {}}};
    if (!before.empty()) {
      rows.push_back({"before: conceptwatch --help", {before, "--help"}, {}});
      rows.push_back({"before: conceptwatch status (daemon up)", status(before), {}});
    }
    for (auto& row : rows) timed_run(row.command);  // warm the page cache
    for (int i = 0; i < repeats; ++i)
      for (auto& row : rows) row.ms.push_back(timed_run(row.command));
    std::printf("| command (%d runs each, interleaved) | p50 ms | p90 ms |\n|---|---|---|\n", repeats);
    for (const auto& row : rows)
      std::printf("| %s | %.1f | %.1f |\n", row.label.c_str(), median(row.ms), percentile(row.ms, 0.9));
  } catch (const std::exception& e) {
    std::cerr << "cw_bench_cli: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
