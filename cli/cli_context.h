// What every conceptwatch subcommand needs: where the daemon and the data
// are, and how to print.
#ifndef CW_CLI_CLI_CONTEXT_H_
#define CW_CLI_CLI_CONTEXT_H_

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/client_keys.h"
#include "detect/emergence.h"
#include "store/store.h"

namespace cw {

struct CliContext {
  std::string query_endpoint;
  std::string ingest_endpoint;
  std::string data_dir;
  ClientKeyFiles keys;    // CURVE, for a daemon with [auth] keys
  int timeout_ms = 2000;  // how long to wait for the daemon
  bool json = false;
  // What the answers read from the data directory date emergence with: the
  // [emergence] settings of the daemon's configuration (--config), so that
  // they are the daemon's answers; the defaults without one.
  EmergenceOptions emergence;
  std::string config_path;  // that configuration's file, passed on to conceptwatch-refit
  // Once the daemon has not answered, later questions in this process go to
  // the data directory, opened once (`plot` asks one question per feature:
  // waiting and reopening each time took minutes). Reset it to ask the
  // daemon again and see newer data (a read-only open sees the store as it
  // was when opened).
  mutable std::shared_ptr<Store> offline_store;
};

struct Answer {
  nlohmann::json json;
  bool from_daemon = true;  // false: read from the data directory, daemon down
};

// Asks the daemon; when it does not answer, answers from a read-only open of
// the data directory (telling the user so on stderr). Throws QueryError or
// StoreError when neither can answer, DaemonRefused when the daemon is up
// but refuses this client's key.
Answer ask(const CliContext& context, const std::string& command, const nlohmann::json& params = nlohmann::json::object());

// The data directory opened read-only (works while the daemon runs).
std::unique_ptr<Store> open_read_only(const CliContext& context);

// Prints JSON for --json, else calls `print_text`.
template <typename Fn>
void print_answer(const CliContext& context, const nlohmann::json& json, Fn print_text);

}  // namespace cw

#include <iostream>

template <typename Fn>
void cw::print_answer(const CliContext& context, const nlohmann::json& json, Fn print_text) {
  if (context.json) {
    std::cout << json.dump(2) << "\n";
  } else {
    print_text(json);
  }
}

#endif  // CW_CLI_CLI_CONTEXT_H_
