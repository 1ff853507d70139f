// The dashboard on the daemon's HTTP port: its page, script and style
// (observe/dashboard_assets.h) and GET /api/<command>, which answers exactly
// what `conceptwatch --json <command>` prints, from the same query handler
// (query/query_handler.h) through `query`. The live events are
// observe/event_stream.h. docs/DASHBOARD.md describes the page.
#ifndef CW_OBSERVE_DASHBOARD_ROUTES_H_
#define CW_OBSERVE_DASHBOARD_ROUTES_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace httplib {
class Server;
}

namespace cw {

// Answers a query; throws std::invalid_argument for one it cannot answer
// (unknown run, bad parameter: HTTP 400), anything else for a failure (500).
// Called from the HTTP threads, several at once.
using DashboardQuery = std::function<nlohmann::json(const std::string& command, const nlohmann::json& params)>;

// The query commands /api serves: the CLI's read-only views of runs and
// analysis (not run_description, which hands out the probe tokens).
bool dashboard_command(const std::string& command);

// The URL query string as the handler's parameters: every value a string,
// except those the commands read as integers (id, limit, after, step, top),
// which become integers when they are written as one.
nlohmann::json dashboard_params(const std::multimap<std::string, std::string>& query);

void add_dashboard_routes(httplib::Server& server, DashboardQuery query);

}  // namespace cw

#endif  // CW_OBSERVE_DASHBOARD_ROUTES_H_
