// --run R [--tap T]: what the per-run commands are about.
#ifndef CW_CLI_RUN_TARGET_H_
#define CW_CLI_RUN_TARGET_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace cw {

struct RunTarget {
  std::string run, tap;  // tap empty: the run's only tap
  nlohmann::json params() const {
    nlohmann::json p = {{"run", run}};
    if (!tap.empty()) p["tap"] = tap;
    return p;
  }
};

inline void add_run_target(CLI::App* command, RunTarget* target) {
  command->add_option("--run", target->run, "run id")->required();
  command->add_option("--tap", target->tap, "tap (default: the run's only tap)");
}

}  // namespace cw

#endif  // CW_CLI_RUN_TARGET_H_
