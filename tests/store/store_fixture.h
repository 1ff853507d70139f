// The fixture store of tests/fixtures/store_v1 (a data directory written by
// conceptwatchd before the store had one record format) and the query
// answers recorded from it: what the migration test asks the daemon, and
// what it may ignore.
#ifndef CW_TESTS_STORE_STORE_FIXTURE_H_
#define CW_TESTS_STORE_STORE_FIXTURE_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/daemon_process.h"

namespace cw::testing {

// The fixture's run, task and crosscoder settings (the daemon that reads the
// fixture runs with the settings it was written with, so its worker resumes
// the stored crosscoder instead of starting afresh).
inline constexpr const char* kFixtureRun = "planted";
inline constexpr const char* kFixtureTask = "atom";
inline constexpr const char* kFixtureCrosscoder =
    "n_features = 32\nbatch_size = 256\nsteps_per_update = 300\nlr = 0.003\nsparsity_lambda = 0.02\n"
    "seed = 2\nthreads = 1\n";

// Waits (one minute at most) until every crosscoder worker the daemon
// reports is idle with no backlog; throws with the daemon's log otherwise.
void wait_until_workers_idle(const DaemonProcess& daemon);

// Every answer the goldens hold, by name ("status", "runs", "feature 3",
// ...), as `ask(command, params)` gives them: status without the daemon's
// process state and the data directory's path and size, runs, snapshots,
// run_description, crosscoder, features (all), feature N for the features
// with events and a few others, events, phases and attribution.
using AskFn = std::function<nlohmann::json(const std::string& command, const nlohmann::json& params)>;
nlohmann::json store_fixture_answers(const AskFn& ask);
// The same from a running daemon's query socket.
nlohmann::json store_fixture_answers(const DaemonProcess& daemon);

// Copies the files of directory `from` into `to` (created if missing).
void copy_directory(const std::string& from, const std::string& to);

}  // namespace cw::testing

#endif  // CW_TESTS_STORE_STORE_FIXTURE_H_
