// GET /events: the daemon's events as server-sent events (text/event-stream)
// for the dashboard. Each connection holds one of cpp-httplib's worker
// threads for as long as it stays open, so connections are bounded
// (`max_clients`; one more gets 503 and the page falls back to polling
// /api/events) and the port's pool is sized for them plus the ordinary
// requests (observe/http_port.cc): an open feed never delays a scrape.
//
// The stream: "event: ready" once subscribed (the page then reads the
// history from /api/events, so that nothing raised in between is missed;
// it drops duplicates by run and seq), then one "data:" line per event,
// the event as the `events` query answers it; "event: lost" when this
// reader fell more than the feed's ring behind (the page reloads the
// history); a comment every few seconds so that a closed browser is
// noticed and its thread freed.
#ifndef CW_OBSERVE_EVENT_STREAM_H_
#define CW_OBSERVE_EVENT_STREAM_H_

#include <atomic>

#include "observe/event_feed.h"

namespace httplib {
class Server;
}

namespace cw {

class EventStream {
 public:
  EventStream(const EventFeed& feed, int max_clients) : feed_(feed), max_clients_(max_clients) {}

  void add_route(httplib::Server& server);
  // Open streams end within one wait (250 ms): call before stopping the server.
  void stop() { stopping_ = true; }
  int clients() const { return clients_; }

 private:
  const EventFeed& feed_;
  const int max_clients_;
  std::atomic<int> clients_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace cw

#endif  // CW_OBSERVE_EVENT_STREAM_H_
