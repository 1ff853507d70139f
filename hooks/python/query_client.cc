#include "hooks/python/query_client.h"

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "query/daemon_client.h"
#include "hooks/python/without_gil.h"
#include "query/query_handler.h"

namespace py = pybind11;

namespace cw {
namespace {

// One DaemonClient, rebuilt after a query that got no answer: its DEALER
// socket could otherwise hand the late reply to the next query. The mutex
// keeps two Python threads (the GIL is released while waiting) off the one
// socket.
class QueryClient {
 public:
  QueryClient(std::string endpoint, double timeout_s, ClientKeyFiles keys)
      : endpoint_(std::move(endpoint)), timeout_(int64_t(timeout_s * 1000)), keys_(std::move(keys)) {
    connect();  // an unusable key file fails here, not at the first query
  }

  // `params_json` in, the answer's JSON text out: Python's json module does
  // the conversion, so numbers round-trip exactly as the CLI prints them.
  std::string query(const std::string& command, const std::string& params_json) {
    const nlohmann::json params = nlohmann::json::parse(params_json);
    std::lock_guard<std::mutex> lock(mu_);
    if (!client_) connect();
    try {
      return client_->query(command, params).dump();
    } catch (const QueryError&) {
      throw;  // the daemon answered: the socket is in step
    } catch (...) {
      client_.reset();
      throw;
    }
  }

  const std::string& endpoint() const { return endpoint_; }

 private:
  void connect() { client_ = std::make_unique<DaemonClient>(endpoint_, timeout_, keys_); }

  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  ClientKeyFiles keys_;
  std::mutex mu_;
  std::unique_ptr<DaemonClient> client_;
};

}  // namespace

void add_query_client(py::module_& m) {
  py::register_exception<DaemonUnreachable>(m, "DaemonUnreachable", PyExc_ConnectionError);
  py::register_exception<DaemonRefused>(m, "DaemonRefused", PyExc_PermissionError);
  py::register_exception<QueryError>(m, "QueryError", PyExc_RuntimeError);

  py::class_<QueryClient>(m, "QueryClient", "the CLI's query client (query/daemon_client.h); see conceptwatch.connect")
      .def(py::init([](const std::string& endpoint, double timeout_s, const std::string& server_key,
                       const std::string& secret_key) {
             try {
               return std::make_unique<QueryClient>(endpoint, timeout_s, ClientKeyFiles{server_key, secret_key});
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());  // a key file that is missing or not a key
             }
           }),
           py::arg("endpoint"), py::arg("timeout_s") = 5.0, py::arg("server_key") = std::string(),
           py::arg("secret_key") = std::string())
      .def(
          "query",
          [](QueryClient& client, const std::string& command, const std::string& params_json) {
            // a query may wait up to the timeout
            return without_gil([&] { return client.query(command, params_json); });
          },
          py::arg("command"), py::arg("params_json") = "{}",
          "Sends one query; returns the daemon's answer as JSON text.")
      .def_property_readonly("endpoint", &QueryClient::endpoint);
}

}  // namespace cw
