// The daemon's HTTP port (cpp-httplib): /metrics in the Prometheus text
// format, /healthz (the process answers) and /readyz (the store is open and
// the sockets are served), and the live dashboard (observe/
// dashboard_routes.h, observe/event_stream.h). It answers on its own
// threads from callbacks
// that must be safe to call from them; it never touches the thread that
// serves ingest, so a slow scrape cannot delay a training job's acks.
#ifndef CW_OBSERVE_HTTP_PORT_H_
#define CW_OBSERVE_HTTP_PORT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "observe/dashboard_routes.h"
#include "observe/event_feed.h"

namespace httplib {
class Server;
}

namespace cw {
class EventStream;
}

namespace cw {

class HttpPort {
 public:
  struct Callbacks {
    std::function<nlohmann::json()> status;  // the `status` query's answer
    std::function<bool()> ready;             // whether /readyz says 200
    DashboardQuery query;                    // /api/<command>
    const EventFeed* events = nullptr;       // /events; outlives the port
  };

  // Binds `address` at once (throws std::runtime_error saying why it
  // cannot) and serves on a thread of its own until destroyed.
  HttpPort(const std::string& address, Callbacks callbacks);
  ~HttpPort();
  HttpPort(const HttpPort&) = delete;
  HttpPort& operator=(const HttpPort&) = delete;

  int port() const { return port_; }

 private:
  Callbacks callbacks_;
  std::unique_ptr<EventStream> event_stream_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::atomic<bool> ended_{false};  // the listening loop has returned
  std::thread thread_;
};

}  // namespace cw

#endif  // CW_OBSERVE_HTTP_PORT_H_
