#include "daemon/daemon.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <zmq.hpp>

#include "auth/auth_config.h"
#include "auth/curve_keys.h"
#include "auth/zap_handler.h"
#include "daemon/exit_codes.h"
#include "daemon/systemd_notify.h"
#include "observe/event_feed.h"
#include "observe/http_port.h"
#include "query/analysis_queries.h"
#ifdef CW_WITH_ANALYSIS
#include "analysis/analysis_scheduler.h"
#include "analysis/crosscoder_state_migration.h"
#include "crosscoder/crosscoder.h"
#endif
#include "query/query_protocol.h"
#include "schema/json_text.h"
#include "schema/messages.h"
#include "schema/unix_time.h"
#include "store/analysis_tables.h"

namespace cw {
namespace {

// What the clients send (a DEALER's one frame, or a REQ's delimiter and one
// frame) arrives on the ROUTER as at most 3 parts: identity, [empty], payload.
constexpr std::size_t kMaxParts = 3;

// Receives one multipart message: routing frames, then the payload. Parts
// beyond kMaxParts are read and dropped at once (a peer may send thousands,
// each up to the size limit) and counted in `extra`.
bool receive(zmq::socket_t& socket, std::vector<zmq::message_t>* parts, std::size_t* extra) {
  parts->clear();
  *extra = 0;
  while (true) {
    zmq::message_t part;
    if (!socket.recv(part, zmq::recv_flags::dontwait)) return !parts->empty();
    const bool more = part.more();
    if (parts->size() < kMaxParts) {
      parts->push_back(std::move(part));
    } else {
      ++*extra;
    }
    if (!more) return true;
  }
}

// Replies to the sender: its identity, and the empty delimiter if it sent
// one; never the other parts it sent (echoing them let a peer make the
// daemon send back whatever it sent, multiplied).
void reply(zmq::socket_t& socket, std::vector<zmq::message_t>& parts, const Frame& frame) {
  zmq::message_t identity(parts[0].data(), parts[0].size());
  socket.send(identity, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  if (parts.size() == 3 && parts[1].size() == 0) socket.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  zmq::message_t payload(frame.data(), frame.size());
  socket.send(payload, zmq::send_flags::dontwait);
}

// Why a message is not one the clients send, or empty: the payload must be
// the last of 2 parts, or of 3 behind an empty delimiter.
std::string envelope_problem(const std::vector<zmq::message_t>& parts, std::size_t extra) {
  const std::size_t count = parts.size() + extra;
  if (count == 2 || (count == 3 && parts[1].size() == 0)) return {};
  return "a message is one frame (with a REQ socket's empty delimiter before it); this one came in " +
         std::to_string(count - 1) + " parts";
}

// The HTTP port has no authentication at all (CURVE guards only the ZeroMQ
// sockets), and /metrics names every run and tap: beyond loopback it needs
// the same explicit opt-out as an unauthenticated socket (docs/SECURITY.md).
void check_http_listen(const DaemonConfig& config) {
  if (config.http_listen.empty() || config.auth.allow_unauthenticated) return;
  if (!is_loopback_endpoint("tcp://" + config.http_listen))
    throw std::runtime_error("refusing to serve HTTP (/metrics) on " + config.http_listen +
                             ": it has no authentication, and anyone who can reach it would see every run's names and "
                             "progress. Listen on 127.0.0.1 (and scrape through a local Prometheus or a tunnel), or, on "
                             "a private network only, pass --allow-unauthenticated ([auth] allow_unauthenticated = true)");
}

// Runs a start-up check whose failure only a person can fix, so that
// main() exits with kExitConfig and systemd does not restart the daemon.
template <typename Check>
void as_config_error(Check check) {
  try {
    check();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
}

}  // namespace

#ifdef CW_WITH_ANALYSIS
struct Daemon::Analysis {
  std::unique_ptr<AnalysisScheduler> scheduler;
};
#else
struct Daemon::Analysis {};  // built without the crosscoder: snapshots are stored only
#endif

struct Daemon::Sockets {
  zmq::context_t context;
  std::unique_ptr<ZapHandler> zap;  // with CURVE; closes before the context ends
  zmq::socket_t ingest{context, zmq::socket_type::router};
  zmq::socket_t query{context, zmq::socket_type::router};
};

Daemon::Daemon(const DaemonConfig& config)
    : config_(config), sockets_(std::make_unique<Sockets>()), started_unix_ms_(unix_now_ms()) {
  // First: a daemon that would listen unguarded touches nothing.
  as_config_error([&] {
    check_auth_config(config.auth, {config.ingest_endpoint, config.query_endpoint});
    check_http_listen(config);
#ifdef CW_WITH_ANALYSIS
    // At start-up, not when the first snapshot arrives hours later.
    if (config.analysis.enabled) check_device(config.analysis.crosscoder.device);
#endif
  });
  store_ = Store::open(config.data_dir);
  if (const StoreMigration& migration = store_->migration(); migration.from_format)
    spdlog::info("store migrated from format {} to {}: {} records rewritten in {:.2f} s", migration.from_format,
                 Store::kFormat, migration.records, migration.seconds);
#ifdef CW_WITH_ANALYSIS
  // Before any worker or reader: afterwards every state reads without LibTorch.
  migrate_crosscoder_states(*store_);
#endif
  alerts_ = std::make_unique<EventAlerts>(config.alerts);
  feed_ = std::make_unique<EventFeed>();  // before the workers that raise events
  ingest_ = std::make_unique<Ingest>(*store_, config.limits);
  queries_ = std::make_unique<QueryHandler>(*store_, [this] { return live_status(); });
  add_analysis_queries(*queries_, *store_, config.analysis.monitor.emergence);
  analysis_ = std::make_unique<Analysis>();
#ifdef CW_WITH_ANALYSIS
  analysis_->scheduler = std::make_unique<AnalysisScheduler>(*store_, config.analysis,
                                                             [this](const nlohmann::json& e) { raise(e); });
  ingest_->on_stored([this](const SnapshotMeta& meta) { analysis_->scheduler->on_stored(meta); });
#endif
  for (auto* socket : {&sockets_->ingest, &sockets_->query}) {
    socket->set(zmq::sockopt::linger, 1000);
    socket->set(zmq::sockopt::rcvhwm, 256);
  }
  // Replies queued for one peer: a ROUTER drops a reply to a peer whose
  // queue is full (we send with dontwait and without ROUTER_MANDATORY), so
  // a peer that never reads holds at most this many replies, not the
  // 100,000 before (issue 11). A publisher has a few acks outstanding at a
  // time; a query client waits for each reply, and replies can be megabytes.
  sockets_->ingest.set(zmq::sockopt::sndhwm, 1000);
  sockets_->query.set(zmq::sockopt::sndhwm, 16);
  as_config_error([&] { listen_securely(); });  // reads the secret key file
  // Frames beyond the limit make ZeroMQ drop the connection before we
  // allocate; smaller bad frames get an error reply from Ingest.
  sockets_->ingest.set(zmq::sockopt::maxmsgsize, int64_t(config.limits.max_frame_bytes) + 4096);
  sockets_->query.set(zmq::sockopt::maxmsgsize, int64_t(1) << 20);
  try {
    sockets_->ingest.bind(config.ingest_endpoint);
    sockets_->query.bind(config.query_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot listen on " + config.ingest_endpoint + " / " + config.query_endpoint + ": " +
                             e.what() + " (is another conceptwatchd running?)");
  }
  if (!config.http_listen.empty()) {
    // On its own threads, calling the query handler directly rather than
    // through the serving loop (which would make a slow page wait behind
    // ingest, and ingest behind it): answer() is safe from several threads
    // (query/query_handler.h), as each command reads the store (RocksDB,
    // thread-safe) through objects of its own and `status` reads the
    // components' locked counters. Its commands are all added above, before
    // any thread calls it.
    const auto query = [this](const std::string& command, const nlohmann::json& params) {
      try {
        return queries_->answer(command, params);
      } catch (const QueryError& e) {
        throw std::invalid_argument(e.what());  // the HTTP port's "bad request"
      }
    };
    http_ = std::make_unique<HttpPort>(
        config.http_listen,
        HttpPort::Callbacks{[query] { return query("status", nlohmann::json::object()); },
                            [this] { return serving_.load(); }, query, feed_.get()});
  }
  spdlog::info("conceptwatchd listening: ingest {} query {} http {} data {}", config.ingest_endpoint,
               config.query_endpoint, config.http_listen.empty() ? "off" : config.http_listen, config.data_dir);
}

// Before anything is bound (the policy was checked first thing): loopback
// without keys, or CURVE with a ZAP handler that checks each client's key
// against its role's directory (auth/auth_config.h).
void Daemon::listen_securely() {
  const AuthConfig& auth = config_.auth;
  if (!auth.curve()) {
    if (auth.allow_unauthenticated)
      spdlog::warn("listening without authentication (allow_unauthenticated): anyone who can reach {} or {} may "
                   "publish and query", config_.ingest_endpoint, config_.query_endpoint);
    return;
  }
  sockets_->zap = std::make_unique<ZapHandler>(
      sockets_->context.handle(), std::map<std::string, std::string>{{"ingest", auth.ingest_keys}, {"query", auth.query_keys}});
  const CurveKeyPair server = read_secret_key(auth.secret_key);
  for (auto [socket, domain] : {std::pair{&sockets_->ingest, "ingest"}, std::pair{&sockets_->query, "query"}}) {
    socket->set(zmq::sockopt::curve_server, 1);
    socket->set(zmq::sockopt::curve_secretkey, server.secret_key);
    socket->set(zmq::sockopt::zap_domain, domain);
  }
  spdlog::info("CURVE on both sockets, server public key {}", server.public_key);
}

Daemon::~Daemon() {
  http_.reset();  // no scrape reads a part that is going away
  analysis_.reset();  // workers stop before the store closes and before alerts stop
  alerts_.reset();
}

// Whether crosscoders train in this process: built with them and not
// turned off ([crosscoder] enabled = false, --store-only).
bool Daemon::analysis_running() const {
#ifdef CW_WITH_ANALYSIS
  return config_.analysis.enabled;
#else
  return false;
#endif
}

// Every event goes to the event log first (so it survives), then to the log.
void Daemon::raise(const nlohmann::json& event) {
  const std::string run = event.value("run", "");
  const uint64_t seq = EventLog(*store_).append(run, event);
  alerts_->on_event(event);
  nlohmann::json stored = event;  // as the `events` query will answer it
  stored["seq"] = seq;
  stored["run"] = run;
  feed_->publish(std::move(stored));
  if (event.value("type", "") == "phase_transition") {
    spdlog::warn("PHASE TRANSITION in {}/{}: onset step {}, alarm at step {} (event {})", run, event.value("tap", ""),
                 event.value("onset_step", uint64_t(0)), event.value("alarm_step", uint64_t(0)), seq);
  } else if (event.value("type", "") == "phase") {
    spdlog::info("phase {}/{}: {} -> {} at step {}", run, event.value("tap", ""), event.value("previous_phase", ""),
                 event.value("phase", ""), event.value("step", uint64_t(0)));
  } else {
    spdlog::debug("event {} {}", seq, json_text(event));
  }
}

nlohmann::json Daemon::live_status() const {
  const IngestStats stats = ingest_->stats();
  return {{"up", true},
          {"uptime_s", (unix_now_ms() - started_unix_ms_) / 1000.0},
          {"started_unix_ms", started_unix_ms_},
          {"http", config_.http_listen},
          {"ingest_endpoint", config_.ingest_endpoint},
          {"query_endpoint", config_.query_endpoint},
          {"frames", stats.frames},
          {"bytes_received", stats.bytes},
          {"snapshots_stored", stats.snapshots_stored},
          {"duplicates", stats.duplicates},
          {"hello_writes", stats.hello_writes},
          {"errors", stats.errors},
          {"pending_snapshots", stats.pending_snapshots},
          {"pending_bytes", stats.pending_bytes},
          {"refusals_not_logged", stats.refusals_not_logged},
#ifdef CW_WITH_ANALYSIS
          {"crosscoders", analysis_->scheduler->status()},
          {"trainers", analysis_->scheduler->trainer_status()},
#endif
          {"alerts", alerts_->status()},
          {"auth", sockets_->zap ? nlohmann::json{{"curve", true}, {"roles", sockets_->zap->status()}}
                                 : nlohmann::json{{"curve", false}}},
          {"analysis", analysis_running()}};
}

void Daemon::serve(const std::atomic<bool>& stop) {
#ifdef CW_WITH_ANALYSIS
  analysis_->scheduler->start();
#endif
  std::vector<zmq::message_t> parts;
  uint64_t last_expiry = unix_now_ms();
  SystemdNotify systemd;
  serving_ = true;
  systemd.ready("serving: ingest " + config_.ingest_endpoint + ", query " + config_.query_endpoint);
  while (!stop) {
    // The loop turns at least every 100 ms (the poll below), so a stuck
    // store write or query stops the pings and systemd restarts the daemon.
    systemd.watchdog_tick();
    zmq::pollitem_t items[] = {{sockets_->ingest.handle(), 0, ZMQ_POLLIN, 0},
                               {sockets_->query.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: look at `stop`
      throw;
    }
    // Bounded batches so neither socket starves the other.
    std::size_t extra = 0;
    for (int i = 0; i < 64 && receive(sockets_->ingest, &parts, &extra); ++i) {
      if (parts.size() < 2) continue;
      const std::string peer(static_cast<const char*>(parts[0].data()), parts[0].size());
      if (auto problem = envelope_problem(parts, extra); !problem.empty()) {
        reply(sockets_->ingest, parts, ingest_->refuse_envelope(peer, problem));
        continue;
      }
      for (const Frame& frame : ingest_->handle(peer, parts.back().data(), parts.back().size())) {
        reply(sockets_->ingest, parts, frame);
      }
    }
    for (int i = 0; i < 16 && receive(sockets_->query, &parts, &extra); ++i) {
      if (parts.size() < 2) continue;
      if (auto problem = envelope_problem(parts, extra); !problem.empty()) {
        reply(sockets_->query, parts, encode_reply_frame({false, "", problem}));
        continue;
      }
      reply(sockets_->query, parts, answer_query_frame(*queries_, parts.back().data(), parts.back().size()));
    }
    if (unix_now_ms() - last_expiry > 1000) {
      last_expiry = unix_now_ms();
      ingest_->expire(last_expiry, config_.partial_idle_ms);
    }
  }
  serving_ = false;
  systemd.stopping();
  spdlog::info("conceptwatchd stopping: {} snapshots stored this session", ingest_->stats().snapshots_stored);
}

}  // namespace cw
