#include "observe/dashboard_routes.h"

#include <httplib.h>

#include <map>
#include <set>
#include <stdexcept>

#include "observe/dashboard_assets.h"

namespace cw {
namespace {

std::string content_type(const std::string& name) {
  const std::string ext = name.substr(name.rfind('.') + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// As the CLI prints it (cli/cli_context.h: dump(2) and a newline), with
// bytes that are not UTF-8 replaced as the query socket replaces them.
std::string json_body(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Up to 18 digits, which any int64 holds: longer ones stay text, and the
// handler's integer_param says what range it wants.
bool integer_text(const std::string& text) {
  const std::size_t digits = text.size() - (!text.empty() && text[0] == '-');
  return digits > 0 && digits <= 18 && text.find_first_not_of("0123456789", text.size() - digits) == std::string::npos;
}

}  // namespace

bool dashboard_command(const std::string& command) {
  static const std::set<std::string> commands = {"status", "runs",  "snapshots", "crosscoder",  "features",
                                                 "feature", "phases", "events",   "attribution"};
  return commands.count(command) > 0;
}

nlohmann::json dashboard_params(const std::multimap<std::string, std::string>& query) {
  static const std::set<std::string> integers = {"id", "limit", "after", "step", "top"};
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, value] : query) {
    if (integers.count(name) && integer_text(value)) {
      params[name] = value[0] == '-' ? nlohmann::json(std::stoll(value)) : nlohmann::json(std::stoull(value));
    } else {
      params[name] = value;
    }
  }
  return params;
}

void add_dashboard_routes(httplib::Server& server, DashboardQuery query) {
  for (std::size_t i = 0; i < kDashboardAssetCount; ++i) {
    const DashboardAsset& asset = kDashboardAssets[i];
    const std::string name = asset.name;
    const auto serve = [&asset, type = content_type(name)](const httplib::Request&, httplib::Response& response) {
      // no-cache: a browser revalidates, so a new daemon's page is never stale.
      response.set_header("Cache-Control", "no-cache");
      response.set_content(reinterpret_cast<const char*>(asset.data), asset.size, type);
    };
    server.Get("/" + name, serve);
    if (name == "index.html") server.Get("/", serve);
  }
  server.Get(R"(/api/([a-z_]+))", [query](const httplib::Request& request, httplib::Response& response) {
    const std::string command = request.matches[1];
    response.set_header("Cache-Control", "no-store");
    if (!dashboard_command(command)) {
      response.status = 404;
      response.set_content(json_body({{"error", "no query '" + command + "' here"}}), "application/json");
      return;
    }
    try {
      response.set_content(json_body(query(command, dashboard_params(request.params))), "application/json");
    } catch (const std::invalid_argument& e) {
      response.status = 400;
      response.set_content(json_body({{"error", e.what()}}), "application/json");
    } catch (const std::exception& e) {
      response.status = 500;
      response.set_content(json_body({{"error", std::string("cannot answer: ") + e.what()}}), "application/json");
    }
  });
}

}  // namespace cw
