#include "observe/http_port.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "observe/daemon_metrics.h"
#include "observe/event_stream.h"
#include "observe/host_port.h"

namespace cw {
namespace {

// Each open event stream holds a worker thread (observe/event_stream.h);
// the others answer scrapes, probes and the dashboard's requests.
constexpr int kMaxEventStreams = 4;
constexpr int kRequestThreads = 3;

}  // namespace

HttpPort::HttpPort(const std::string& address, Callbacks callbacks)
    : callbacks_(std::move(callbacks)), server_(std::make_unique<httplib::Server>()) {
  const auto [host, port] = split_host_port(address, "[http] listen", false);
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
