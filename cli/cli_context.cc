#include "cli/cli_context.h"

#include <iostream>

#include "cli/daemon_client.h"
#include "daemon/analysis_queries.h"
#include "daemon/query_handler.h"
#include "store/store.h"

namespace cw {

std::unique_ptr<Store> open_read_only(const CliContext& context) {
  StoreOptions options;
  options.read_only = true;
  return Store::open(context.data_dir, options);
}

Answer ask(const CliContext& context, const std::string& command, const nlohmann::json& params) {
  try {
    DaemonClient client(context.query_endpoint, std::chrono::milliseconds(context.timeout_ms));
    return {client.query(command, params), true};
  } catch (const DaemonUnreachable& e) {
    std::cerr << e.what() << "; reading " << context.data_dir << " (read-only)\n";
  }
  auto store = open_read_only(context);
  QueryHandler handler(*store);
  add_analysis_queries(handler, *store);
  return {handler.answer(command, params), false};
}

}  // namespace cw
