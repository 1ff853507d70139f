#include "cli/cli_context.h"

#include <iostream>

#include "query/analysis_queries.h"
#include "query/daemon_client.h"
#include "query/query_handler.h"
#include "store/store.h"

namespace cw {

std::unique_ptr<Store> open_read_only(const CliContext& context) {
  StoreOptions options;
  options.read_only = true;
  return Store::open(context.data_dir, options);
}

Answer ask(const CliContext& context, const std::string& command, const nlohmann::json& params) {
  if (!context.offline_store) {
    try {
      DaemonClient client(context.query_endpoint, std::chrono::milliseconds(context.timeout_ms), context.keys);
      return {client.query(command, params), true};
    } catch (const DaemonUnreachable& e) {
      std::cerr << e.what() << "; reading " << context.data_dir << " (read-only)\n";
    }
    context.offline_store = open_read_only(context);
  }
  QueryHandler handler(*context.offline_store);
  add_analysis_queries(handler, *context.offline_store, context.emergence);
  return {handler.answer(command, params), false};
}

}  // namespace cw
