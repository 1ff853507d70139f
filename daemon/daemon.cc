#include "daemon/daemon.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <zmq.hpp>

#include "auth/auth_config.h"
#include "auth/curve_keys.h"
#include "auth/zap_handler.h"
#include "daemon/exit_codes.h"
#include "daemon/run_compactor.h"
#include "daemon/store_write_watch.h"
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
#include "schema/run_checks.h"
#include "schema/unix_time.h"
#include "store/analysis_tables.h"
#include "store/run_catalog.h"
#include "store/run_deletion.h"

namespace cw {
namespace {

// What the clients send (a DEALER's one frame, or a REQ's delimiter and one
// frame) arrives on the ROUTER as at most 3 parts: identity, [empty], payload.
constexpr std::size_t kMaxParts = 3;

// A signal (SIGTERM's stop) can interrupt even a non-blocking ZeroMQ call:
// libzmq polls its command mailbox inside it and hands back EINTR, which
// cppzmq throws. Nothing was received or sent, so the call is made again;
// the serving loops look at `stop` at their next turn. Seen once in CI as
// conceptwatchd exiting 1, "Interrupted system call", on a SIGTERM mid-stream
// (PublisherDaemon.SigtermMidStreamThenRestartStoresEverySnapshotExactlyOnce).
template <typename Call>
auto again_if_interrupted(const Call& call) {
  while (true) {
    try {
      return call();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

// Receives one multipart message: routing frames, then the payload. Parts
// beyond kMaxParts are read and dropped at once (a peer may send thousands,
// each up to the size limit) and counted in `extra`.
bool receive(zmq::socket_t& socket, std::vector<zmq::message_t>* parts, std::size_t* extra) {
  parts->clear();
  *extra = 0;
  while (true) {
    zmq::message_t part;
    if (!again_if_interrupted([&] { return socket.recv(part, zmq::recv_flags::dontwait); })) return !parts->empty();
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
  const auto send = [&socket](zmq::message_t&& part, zmq::send_flags flags) {
    again_if_interrupted([&] { return socket.send(part, flags | zmq::send_flags::dontwait); });
  };
  send(zmq::message_t(parts[0].data(), parts[0].size()), zmq::send_flags::sndmore);
  if (parts.size() == 3 && parts[1].size() == 0) send(zmq::message_t(), zmq::send_flags::sndmore);
  send(zmq::message_t(frame.data(), frame.size()), zmq::send_flags::none);
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
  store_ = Store::open(config.data_dir, StoreOptions{config.read_only, true});
  store_watch_ = std::make_unique<StoreWriteWatch>(*store_);
  compactor_ = std::make_unique<RunCompactor>(store_.get());
  if (const StoreMigration& migration = store_->migration(); migration.from_format)
    spdlog::info("store migrated from format {} to {}: {} records rewritten in {:.2f} s", migration.from_format,
                 Store::kFormat, migration.records, migration.seconds);
  {  // corrupt run records: reported, not fatal (the other runs are served)
    std::vector<RunCatalog::Unreadable> unreadable;
    RunCatalog(*store_).list(&unreadable);
    for (const auto& bad : unreadable)
      spdlog::error("run {}: {}; its data cannot be served or added to (`conceptwatch repair --data-dir {}` may bring "
                    "it back); the other runs are served", quoted_name(bad.run), bad.error, config.data_dir);
  }
  if (config.read_only)
    spdlog::warn("serving the store in {} read-only (--read-only): queries only; data from hooks is refused, no "
                 "crosscoder trains", config.data_dir);
#ifdef CW_WITH_ANALYSIS
  // Before any worker or reader: afterwards every state reads without LibTorch.
  if (!config.read_only) migrate_crosscoder_states(*store_);
#endif
  alerts_ = std::make_unique<EventAlerts>(config.alerts);
  feed_ = std::make_unique<EventFeed>();  // before the workers that raise events
  ingest_ = std::make_unique<Ingest>(*store_, config.limits, config.quotas);
  ingest_->on_command([this](const QueryRequest& request) { return write_command(request); });
  queries_ = std::make_unique<QueryHandler>(*store_, [this](const StatusRequest& r) { return live_status(r); });
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
        // /metrics has a sample per tap: the full listing (query/status_request.h).
        HttpPort::Callbacks{[query] { return query("status", {{"taps", true}}); },
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

// Every event goes to the event log first (so it survives), then to the
// log; while the store refuses writes it is held and stored later (the
// dashboard's feed gets it then, with its number), its alerts go out now.
void Daemon::raise(const nlohmann::json& event) {
  const std::string run = event.value("run", "");
  std::optional<nlohmann::json> stored = store_watch_->append_event(run, event);
  alerts_->on_event(event);
  const uint64_t seq = stored ? stored->value("seq", uint64_t(0)) : 0;
  if (stored) feed_->publish(std::move(*stored));
  const std::string type = event.value("type", "");
  if (type == "phase_transition") {
    spdlog::warn("PHASE TRANSITION in {}/{}: onset step {}, alarm at step {} (event {})", run, event.value("tap", ""),
                 event.value("onset_step", uint64_t(0)), event.value("alarm_step", uint64_t(0)), seq);
  } else if (type == "phase_transition_features") {
    spdlog::info("phase transition in {}/{} (began at step {}) now seen in the features: {} (event {})", run,
                 event.value("tap", ""), event.value("began_step", uint64_t(0)),
                 json_text(event.value("feature_signals", nlohmann::json::array())), seq);
  } else if (type == "phase") {
    spdlog::info("phase {}/{}: {} -> {} at step {}", run, event.value("tap", ""), event.value("previous_phase", ""),
                 event.value("phase", ""), event.value("step", uint64_t(0)));
  } else {
    spdlog::debug("event {} {}", seq, json_text(event));
  }
}

// Write commands come on the ingest socket, so that with CURVE only keys of
// the ingest role may send them (Ingest::on_command); they run on the
// ingest thread, between messages, so no array of the run is half-stored.
QueryReply Daemon::write_command(const QueryRequest& request) {
  try {
    const nlohmann::json params = request.params.empty() ? nlohmann::json::object() : nlohmann::json::parse(request.params);
    if (request.command == "ping") return {true, "{}", ""};  // the CLI's "is the daemon up" before a long command
    if (request.command != "delete_run")
      return {false, "", "unknown command " + quoted_name(request.command) + " (the ingest socket takes delete_run, ping)"};
    const std::string run = required_param(params, "run");
    return {true, json_text(delete_run(run, "on request")), ""};
  } catch (const std::exception& e) {
    return {false, "", e.what()};
  }
}

// The run's crosscoder workers stop first (none writes the run afterwards),
// then its records go in one batch, then ingest forgets its partial arrays;
// the space comes back as the compactor gets to it (daemon/run_compactor.h).
nlohmann::json Daemon::delete_run(const std::string& run, const std::string& why) {
  if (!RunCatalog(*store_).get(run)) throw QueryError("unknown run " + quoted_name(run) + ": nothing deleted");
#ifdef CW_WITH_ANALYSIS
  analysis_->scheduler->stop_run(run);
#endif
  const std::optional<RunDeletion> deleted = cw::delete_run(*store_, run, Compaction::kByCaller);
  ingest_->forget_run(run);
  if (!deleted) throw QueryError("unknown run " + quoted_name(run) + ": nothing deleted");
  compactor_->schedule(run);
  spdlog::info("deleted run {} ({}): {} arrays, {} bytes, {} other records in {:.2f} s", quoted_name(run), why,
               deleted->arrays, deleted->array_bytes, deleted->records, deleted->seconds);
  return deleted->to_json();
}

// [retention] max_idle_hours: the runs idle for longer are deleted.
void Daemon::apply_retention() {
  const uint64_t idle_ms = uint64_t(config_.retention_max_idle_hours * 3600e3);
  for (const std::string& run : ingest_->runs_idle_for(unix_now_ms(), idle_ms)) {
    try {
      delete_run(run, "idle longer than [retention] max_idle_hours");
    } catch (const std::exception& e) {
      spdlog::warn("retention: could not delete run {}: {}", quoted_name(run), e.what());
    }
  }
}

nlohmann::json Daemon::live_status(const StatusRequest& request) const {
  const IngestStats stats = ingest_->stats();
  nlohmann::json out = {{"up", true},
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
          {"store", store_watch_->status()},
#ifdef CW_WITH_ANALYSIS
          {"crosscoder_summary", analysis_->scheduler->summary(request.limit)},
          {"trainers", analysis_->scheduler->trainer_status()},
#endif
          {"alerts", alerts_->status()},
          {"auth", sockets_->zap ? nlohmann::json{{"curve", true}, {"roles", sockets_->zap->status()}}
                                 : nlohmann::json{{"curve", false}}},
          {"analysis", analysis_running()},
          {"read_only", config_.read_only}};
#ifdef CW_WITH_ANALYSIS
  if (request.per_tap()) out["crosscoders"] = analysis_->scheduler->status(request.run);
#endif
  out["store"]["compactions_pending"] = compactor_->pending();
  return out;
}

// The query socket on a thread of its own (issue 11): a query that reads
// much of the store (a large run's description, attribution, plots' many
// questions) no longer holds back the acks a training job waits for. The
// socket was made and bound by the constructor's thread; ZeroMQ lets a
// socket move to another thread across a full memory barrier (starting the
// thread is one), and from then on only this thread uses it until serve()
// joins it. The commands read the store through objects of their own and
// `status` reads locked counters (query/query_handler.h), as for the HTTP port.
void Daemon::serve_queries(const std::atomic<bool>& stop, const std::atomic<bool>& ingest_ended) {
  std::vector<zmq::message_t> parts;
  while (!stop && !ingest_ended) {
    ++query_turns_;
    zmq::pollitem_t item{sockets_->query.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    std::size_t extra = 0;
    for (int i = 0; i < 16 && receive(sockets_->query, &parts, &extra); ++i) {
      if (parts.size() < 2) continue;
      if (auto problem = envelope_problem(parts, extra); !problem.empty()) {
        reply(sockets_->query, parts, encode_reply_frame({false, "", problem}));
        continue;
      }
      reply(sockets_->query, parts, answer_query_frame(*queries_, parts.back().data(), parts.back().size()));
    }
  }
}

void Daemon::serve(const std::atomic<bool>& stop) {
#ifdef CW_WITH_ANALYSIS
  analysis_->scheduler->start();
#endif
  std::vector<zmq::message_t> parts;
  uint64_t last_expiry = unix_now_ms();
  SystemdNotify systemd;
  std::atomic<bool> queries_failed{false}, ingest_ended{false};
  std::thread query_thread([&] {
    try {
      serve_queries(stop, ingest_ended);
    } catch (const std::exception& e) {
      spdlog::error("query socket: {}", e.what());
      queries_failed = true;  // the serving loop ends too: a daemon that cannot be queried exits
    }
  });
  // However the ingest loop ends (a stop, or a socket error thrown), the
  // query thread ends with it and is joined before the sockets close.
  struct JoinQueries {
    std::atomic<bool>& ended;
    std::thread& thread;
    ~JoinQueries() {
      ended = true;
      thread.join();
    }
  } join_queries{ingest_ended, query_thread};
  serving_ = true;
  systemd.ready("serving: ingest " + config_.ingest_endpoint + ", query " + config_.query_endpoint);
  uint64_t query_turns_seen = 0;
  // Retention is checked at start-up, then every minute (more often for an
  // idle time under two minutes).
  const uint64_t retention_ms = uint64_t(config_.retention_max_idle_hours * 3600e3);
  const uint64_t retention_every_ms = std::max<uint64_t>(100, std::min<uint64_t>(60000, retention_ms / 2));
  uint64_t last_retention = 0;
  while (!stop) {
    // The loop turns at least every 100 ms (the poll below), so a stuck
    // store write stops the pings and systemd restarts the daemon. So does
    // a query thread that has not turned since the last turn here for
    // longer than the ping's slack (half of WatchdogSec): both must be alive.
    if (queries_failed) throw std::runtime_error("the query socket failed (see the log above)");
    if (const uint64_t turns = query_turns_.load(); turns != query_turns_seen) {
      query_turns_seen = turns;
      systemd.watchdog_tick();
    }
    zmq::pollitem_t items[] = {{sockets_->ingest.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: look at `stop`
      throw;
    }
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
    if (retention_ms > 0 && unix_now_ms() - last_retention >= retention_every_ms) {
      apply_retention();
      last_retention = unix_now_ms();
    }
    for (nlohmann::json& event : store_watch_->tick(unix_now_ms())) feed_->publish(std::move(event));
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
