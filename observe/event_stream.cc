#include "observe/event_stream.h"

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::milliseconds(250);           // how soon stop() is seen
constexpr auto kKeepAlive = std::chrono::seconds(5);             // how soon a gone reader is seen

// Names and token texts come from the wire and may not be valid UTF-8:
// replaced rather than thrown on (as schema/json_text.h does for replies).
std::string event_line(const nlohmann::json& event) {
  return "data: " + event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

struct Reader {
  uint64_t cursor = 0;
  bool greeted = false;
  Clock::time_point last_write = Clock::now();
};

}  // namespace

void EventStream::add_route(httplib::Server& server) {
  server.Get("/events", [this](const httplib::Request&, httplib::Response& response) {
    if (++clients_ > max_clients_) {
      --clients_;
      response.status = 503;
      response.set_header("Retry-After", "10");
      response.set_content("too many open event streams (at most " + std::to_string(max_clients_) +
                               "); poll /api/events instead\n",
                           "text/plain");
      return;
    }
    auto reader = std::make_shared<Reader>();
    reader->cursor = feed_.end();
    response.set_header("Cache-Control", "no-store");
    response.set_chunked_content_provider(
        "text/event-stream",
        [this, reader](std::size_t, httplib::DataSink& sink) {
          if (stopping_) return false;
          std::string out;
          if (!reader->greeted) {
            // retry: how long the browser waits before reconnecting.
            out = "retry: 2000\nevent: ready\ndata: {}\n\n";
            reader->greeted = true;
          } else {
            const EventFeed::Batch batch = feed_.wait_after(&reader->cursor, kWait);
            if (batch.lost) out += "event: lost\ndata: {}\n\n";
            for (const auto& event : batch.events) out += event_line(event);
            if (out.empty() && Clock::now() - reader->last_write > kKeepAlive) out = ": keep-alive\n\n";
          }
          // Nothing to say: return without writing (a write of 0 bytes
          // would end the response); cpp-httplib calls again at once.
          if (out.empty()) return true;
          reader->last_write = Clock::now();
          return sink.write(out.data(), out.size());
        },
        // Runs when the response is destroyed, however the stream ended.
        [this](bool) { --clients_; });
  });
}

}  // namespace cw
