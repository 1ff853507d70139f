// conceptwatchd: the ingest socket (ROUTER) for hooks, served by the thread
// that calls serve(), and the query socket (ROUTER) for the CLI, served by a
// thread of its own so that queries never delay acks; snapshots go to the store.
// With [http] listen, an HTTP port for Prometheus and health checks
// (observe/http_port.h) answers on threads of its own, the dashboard
// included.
#ifndef CW_DAEMON_DAEMON_H_
#define CW_DAEMON_DAEMON_H_

#include <atomic>
#include <memory>

#include "alerts/event_alerts.h"
#include "daemon/daemon_config.h"
#include "ingest/ingest.h"
#include "query/query_handler.h"
#include "store/store.h"

namespace cw {

class EventFeed;
class HttpPort;
class RunCompactor;
class StoreWriteWatch;

class Daemon {
 public:
  // Opens the store and binds both sockets; throws with the reason.
  explicit Daemon(const DaemonConfig& config);
  ~Daemon();

  // Serves until `stop` becomes true, then returns with everything flushed.
  // Tells systemd READY=1 when it starts serving and WATCHDOG=1 as it goes.
  void serve(const std::atomic<bool>& stop);

 private:
  struct Sockets;
  nlohmann::json live_status(const StatusRequest& request) const;
  void raise(const nlohmann::json& event);
  bool analysis_running() const;
  void listen_securely();
  QueryReply write_command(const QueryRequest& request);  // on the ingest thread
  // Deletes the run (workers stopped first); throws QueryError for an unknown run.
  nlohmann::json delete_run(const std::string& run, const std::string& why);
  void apply_retention();
  void serve_queries(const std::atomic<bool>& stop, const std::atomic<bool>& ingest_ended);  // the query socket's thread

  DaemonConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreWriteWatch> store_watch_;  // a full disk: resumes, holds events
  std::unique_ptr<RunCompactor> compactor_;       // deleted runs' space, off the ingest thread
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<QueryHandler> queries_;
  std::unique_ptr<EventAlerts> alerts_;
  std::unique_ptr<EventFeed> feed_;  // raised events, for the dashboard's live feed
  struct Analysis;  // the crosscoder workers, when built with them
  std::unique_ptr<Analysis> analysis_;
  std::unique_ptr<Sockets> sockets_;
  std::unique_ptr<HttpPort> http_;  // [http] listen; closed first
  std::atomic<bool> serving_{false};  // /readyz
  std::atomic<uint64_t> query_turns_{0};  // the query thread is alive: the watchdog's pings need both threads
  uint64_t started_unix_ms_;
};

}  // namespace cw

#endif  // CW_DAEMON_DAEMON_H_
