#include "tests/store/store_fixture.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

namespace cw::testing {

void wait_until_workers_idle(const DaemonProcess& daemon) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  nlohmann::json workers;
  while (std::chrono::steady_clock::now() < deadline) {
    workers = daemon.query("status", nlohmann::json::object(), std::chrono::seconds(10))["daemon"].value(
        "crosscoder_summary", nlohmann::json::object());
    const uint64_t taps = workers.value("taps", uint64_t(0));
    if (workers.value("backlog", uint64_t(0)) == 0 &&
        workers.value("by_state", nlohmann::json::object()).value("idle", uint64_t(0)) == taps)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("crosscoder workers still busy after a minute: " + workers.dump() + "\n" + daemon.log());
}

nlohmann::json store_fixture_answers(const AskFn& ask) {
  const nlohmann::json run = {{"run", kFixtureRun}};
  nlohmann::json out;
  out["status"] = ask("status", nlohmann::json::object());
  for (const char* volatile_field : {"daemon", "data_dir", "disk_bytes"}) out["status"].erase(volatile_field);
  out["runs"] = ask("runs", nlohmann::json::object());
  out["snapshots"] = ask("snapshots", run);
  out["run_description"] = ask("run_description", run);
  out["crosscoder"] = ask("crosscoder", run);
  nlohmann::json all = run;
  all.update({{"filter", "all"}, {"limit", 0}});
  out["features"] = ask("features", all);
  out["events"] = ask("events", nlohmann::json::object());
  out["phases"] = ask("phases", run);
  nlohmann::json task = run;
  task.update({{"task", kFixtureTask}, {"top", 5}});
  out["attribution"] = ask("attribution", task);
  std::set<uint32_t> ids = {0, 1, 2};
  for (const auto& event : out["events"])
    if (event.contains("feature")) ids.insert(event["feature"].get<uint32_t>());
  for (const uint32_t id : ids) {
    nlohmann::json params = run;
    params["id"] = id;
    out["feature " + std::to_string(id)] = ask("feature", params);
  }
  return out;
}

nlohmann::json store_fixture_answers(const DaemonProcess& daemon) {
  return store_fixture_answers([&](const std::string& command, const nlohmann::json& params) {
    return daemon.query(command, params, std::chrono::seconds(10));
  });
}

void copy_directory(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  std::filesystem::copy(from, to,
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
}

}  // namespace cw::testing
