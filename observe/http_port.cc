#include "observe/http_port.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "observe/daemon_metrics.h"
#include "observe/event_stream.h"

namespace cw {
namespace {

// Each open event stream holds a worker thread (observe/event_stream.h);
// the others answer scrapes, probes and the dashboard's requests.
constexpr int kMaxEventStreams = 4;
constexpr int kRequestThreads = 3;

}  // namespace

std::pair<std::string, int> split_http_address(const std::string& address) {
  const auto colon = address.rfind(':');
  const auto bad = [&address](const std::string& why) {
    return std::runtime_error("[http] listen = \"" + address + "\": " + why +
                              " (write host:port, e.g. \"127.0.0.1:7783\" or \"[::1]:7783\")");
  };
  if (colon == std::string::npos || colon == 0) throw bad("no host:port");
  std::string host = address.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') throw bad("unclosed [");
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5)
    throw bad("the port is not a number");
  const int port = std::stoi(port_text);
  if (port < 1 || port > 65535) throw bad("the port is outside 1-65535");
  return {host, port};
}

HttpPort::HttpPort(const std::string& address, Callbacks callbacks)
    : callbacks_(std::move(callbacks)), server_(std::make_unique<httplib::Server>()) {
  const auto [host, port] = split_http_address(address);
  // Few threads: a scrape every few seconds, a probe or two and a browser
  // need no more, and the daemon shares its machine with a training job.
  // Idle threads cost nothing but their stacks.
  server_->new_task_queue = [] { return new httplib::ThreadPool(kRequestThreads + kMaxEventStreams); };
  // One request per connection: an idle keep-alive connection would hold a
  // worker thread for seconds while a browser's next requests queue behind
  // it. Loopback connections are cheap to open.
  server_->set_keep_alive_max_count(1);
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    try {
      response.set_content(daemon_metrics_text(callbacks_.status()), "text/plain; version=0.0.4; charset=utf-8");
    } catch (const std::exception& e) {
      response.status = 500;
      response.set_content(std::string("cannot render metrics: ") + e.what() + "\n", "text/plain");
    }
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    const bool ready = callbacks_.ready();
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  if (callbacks_.query) add_dashboard_routes(*server_, callbacks_.query);
  if (callbacks_.events) {
    event_stream_ = std::make_unique<EventStream>(*callbacks_.events, kMaxEventStreams);
    event_stream_->add_route(*server_);
  }
  if (!server_->bind_to_port(host, port))
    throw std::runtime_error("cannot listen for HTTP on " + address + " (is another conceptwatchd or exporter using it?)");
  port_ = port;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    ended_ = true;
  });
  // cpp-httplib's stop() does nothing until the listening loop has begun,
  // and that loop would then run forever: a daemon stopped at once would
  // hang in ~HttpPort. The loop begins within microseconds.
  while (!server_->is_running() && !ended_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpPort::~HttpPort() {
  if (event_stream_) event_stream_->stop();  // else stop() would wait on open streams
  server_->stop();
  thread_.join();
}

}  // namespace cw
