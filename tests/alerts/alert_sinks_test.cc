// The four sinks against real receivers on 127.0.0.1: an httplib server, a
// ZeroMQ SUB socket, files and child processes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "alerts/alert_book.h"
#include "alerts/alert_dispatcher.h"
#include "alerts/alertmanager_sink.h"
#include "alerts/exec_sink.h"
#include "alerts/json_lines_sink.h"
#include "alerts/webhook_sink.h"
#include "alerts/zmq_pub_sink.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using std::chrono::milliseconds;

Alert emergence() {
  Alert alert;
  alert.labels = {{"alertname", "FeatureEmerged"}, {"run", "r1"}, {"tap", "blocks.6.resid_post"},
                  {"detector", "emergence"}, {"severity", "info"}};
  alert.annotations = {{"summary", "feature 17 emerged"}, {"onset_step", "1000"}};
  alert.starts_at = parse_rfc3339("2026-01-02T03:04:05Z");
  return alert;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A port nothing listens on (bound, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Waits (bounded, not asserted on time) for `done` to hold.
template <typename Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

// An Alertmanager-style receiver: records the POSTed bodies; with hang set,
// holds every request until release().
class Receiver {
 public:
  explicit Receiver(int port = 0, bool hang = false) : hang_(hang) {
    auto record = [this](const httplib::Request& request, httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mu_);
      ++requests_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !hang_; });
      bodies_.push_back(request.body);
      response.set_content("ok", "text/plain");
    };
    server_.Post("/hook", record);
    server_.Post("/am/api/v2/alerts", record);  // an Alertmanager under the route prefix /am
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else if (server_.bind_to_port("127.0.0.1", port)) {
      port_ = port;
    }
    if (port_ <= 0) throw std::runtime_error("test receiver cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    release();
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return base() + "/hook"; }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    hang_ = false;
    changed_.notify_all();
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  bool hang_;
  int requests_ = 0;
  std::vector<std::string> bodies_;
};

WebhookOptions webhook_to(const std::string& url) {
  WebhookOptions options;
  options.url = url;
  options.connect_timeout = milliseconds(500);
  options.read_timeout = milliseconds(10000);
  options.external_url = "http://cw.example:7784";
  return options;
}

SinkOptions fast_retry(const std::string& name, int attempts = 1000) {
  SinkOptions options;
  options.name = name;
  options.retry.initial_delay = milliseconds(10);
  options.retry.max_delay = milliseconds(50);
  options.retry.max_attempts = attempts;
  return options;
}

// A SUB socket connected to `pub` that has provably joined: PUB drops
// messages for subscribers whose subscription has not arrived yet.
std::unique_ptr<zmq::socket_t> joined_subscriber(zmq::context_t& context, ZmqPubSink& pub) {
  auto sub = std::make_unique<zmq::socket_t>(context, zmq::socket_type::sub);
  sub->set(zmq::sockopt::subscribe, "");
  sub->connect(pub.last_endpoint());
  Alert warmup = emergence();
  warmup.labels["alertname"] = "Warmup";
  for (int i = 0; i < 500; ++i) {
    pub.deliver(warmup);
    zmq::pollitem_t item{static_cast<void*>(*sub), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, milliseconds(10)) > 0) {
      zmq::message_t frame;
      while (sub->recv(frame, zmq::recv_flags::dontwait)) {
      }
      return sub;
    }
  }
  throw std::runtime_error("SUB never joined");
}

TEST(WebhookSink, PostsAnAlertmanagerV4Payload) {
  Receiver receiver;
  WebhookSink sink(webhook_to(receiver.url()));
  Alert alert = emergence();
  sink.deliver(alert);
  alert.status = AlertStatus::kResolved;
  alert.ends_at = parse_rfc3339("2026-01-02T05:00:00Z");
  sink.deliver(alert);

  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  nlohmann::json firing = nlohmann::json::parse(bodies[0]);
  EXPECT_EQ(firing["version"], "4");
  EXPECT_EQ(firing["status"], "firing");
  EXPECT_EQ(firing["receiver"], "conceptwatch");
  EXPECT_EQ(firing["externalURL"], "http://cw.example:7784");
  EXPECT_EQ(firing["truncatedAlerts"], 0);
  EXPECT_EQ(firing["commonLabels"]["run"], "r1");
  ASSERT_EQ(firing["alerts"].size(), 1u);
  EXPECT_EQ(firing["alerts"][0]["labels"]["alertname"], "FeatureEmerged");
  EXPECT_EQ(firing["alerts"][0]["annotations"]["onset_step"], "1000");
  EXPECT_EQ(firing["alerts"][0]["startsAt"], "2026-01-02T03:04:05.000Z");
  EXPECT_EQ(firing["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(firing["alerts"][0]["fingerprint"], alert.fingerprint());
  nlohmann::json resolved = nlohmann::json::parse(bodies[1]);
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["alerts"][0]["endsAt"], "2026-01-02T05:00:00.000Z");
}

TEST(WebhookSink, RefusedConnectionsAndErrorAnswersAreFailures) {
  WebhookSink dead(webhook_to("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"));
  EXPECT_THROW(dead.deliver(emergence()), std::runtime_error);
  Receiver receiver;
  WebhookSink wrong_path(webhook_to(receiver.url() + "-missing"));
  try {
    wrong_path.deliver(emergence());
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WebhookSink(webhook_to("https://example.org/")), std::invalid_argument);
  EXPECT_THROW(WebhookSink(webhook_to("http://host:99999/")), std::invalid_argument);
}

TEST(AlertSinks, DeadAndHangingWebhooksDoNotDelayOtherSinks) {
  testing::TempDir dir;
  Receiver hanging(0, /*hang=*/true);
  auto pub = std::make_unique<ZmqPubSink>("tcp://127.0.0.1:*");
  zmq::context_t context;
  auto sub = joined_subscriber(context, *pub);

  AlertDispatcher dispatcher;
  dispatcher.add_sink(
      std::make_unique<WebhookSink>(webhook_to("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook")),
      fast_retry("dead"));
  dispatcher.add_sink(std::make_unique<WebhookSink>(webhook_to(hanging.url())), fast_retry("hanging"));
  dispatcher.add_sink(std::make_unique<JsonLinesSink>(dir.sub("alerts.jsonl")), fast_retry("jsonl"));
  dispatcher.add_sink(std::move(pub), fast_retry("zmq"));
  dispatcher.emit(emergence());

  ASSERT_TRUE(eventually([&] { return hanging.requests() == 1; }));  // the hanging webhook is now stuck
  zmq::pollitem_t item{static_cast<void*>(*sub), 0, ZMQ_POLLIN, 0};
  ASSERT_GT(zmq::poll(&item, 1, milliseconds(10000)), 0);
  zmq::message_t topic, body;
  ASSERT_TRUE(sub->recv(topic));
  ASSERT_TRUE(sub->recv(body));
  EXPECT_EQ(topic.to_string(), "FeatureEmerged");
  EXPECT_EQ(nlohmann::json::parse(body.to_string())["labels"]["tap"], "blocks.6.resid_post");
  // The subscriber can hold the message before the dispatcher's thread has counted it.
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[2].delivered == 1 && dispatcher.stats()[3].delivered == 1; }));
  auto lines = lines_of(read_file(dir.sub("alerts.jsonl")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["fingerprint"], emergence().fingerprint());

  // Both webhooks are still at it while the others have delivered.
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].retried >= 2; }));
  auto stats = dispatcher.stats();
  EXPECT_EQ(stats[0].delivered, 0u);
  EXPECT_TRUE(stats[0].delivering);
  EXPECT_FALSE(stats[0].last_error.empty());
  EXPECT_EQ(stats[1].delivered, 0u);
  EXPECT_TRUE(stats[1].delivering);
  EXPECT_EQ(stats[3].delivered, 1u);

  hanging.release();
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[1].delivered == 1; }));
  EXPECT_FALSE(dispatcher.shutdown(milliseconds(50)));  // the dead webhook's alert is given up
  EXPECT_EQ(dispatcher.stats()[0].dropped_at_shutdown, 1u);
}

TEST(AlertSinks, WebhookRetriesUntilTheReceiverComesUp) {
  int port = closed_port();
  AlertDispatcher dispatcher;
  dispatcher.add_sink(
      std::make_unique<WebhookSink>(webhook_to("http://127.0.0.1:" + std::to_string(port) + "/hook")),
      fast_retry("webhook"));
  std::vector<Alert> sent;
  AlertBook book([&](const Alert& alert) { dispatcher.emit(alert); });
  book.raise(emergence());
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].retried >= 3; }));
  EXPECT_EQ(dispatcher.stats()[0].delivered, 0u);

  Receiver receiver(port);
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].delivered == 1; }));
  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(bodies[0])["alerts"][0]["labels"]["alertname"], "FeatureEmerged");
  EXPECT_EQ(dispatcher.stats()[0].dropped(), 0u);
}

TEST(AlertSinks, BookAndDispatcherSendOneFiringAndOneResolvedLine) {
  testing::TempDir dir;
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<JsonLinesSink>(dir.sub("a.jsonl")), fast_retry("jsonl"));
  AlertBook book([&](const Alert& alert) { dispatcher.emit(alert); });
  book.raise(emergence());
  book.raise(emergence());  // same labels: no second line
  book.resolve(emergence().labels, parse_rfc3339("2026-01-02T06:00:00Z"));
  ASSERT_TRUE(dispatcher.flush(milliseconds(10000)));

  auto lines = lines_of(read_file(dir.sub("a.jsonl")));
  ASSERT_EQ(lines.size(), 2u);
  Alert first = alert_from_json(nlohmann::json::parse(lines[0]));
  Alert second = alert_from_json(nlohmann::json::parse(lines[1]));
  EXPECT_EQ(first.status, AlertStatus::kFiring);
  EXPECT_EQ(second.status, AlertStatus::kResolved);
  ASSERT_TRUE(second.ends_at.has_value());
  EXPECT_EQ(format_rfc3339(*second.ends_at), "2026-01-02T06:00:00.000Z");
  EXPECT_EQ(first.labels, second.labels);
}

TEST(AlertmanagerSink, PostsRepostsWhileFiringAndResolvesWithEndsAt) {
  Receiver receiver;
  AlertmanagerOptions options;
  options.url = receiver.base() + "/am/";
  options.repost_interval = milliseconds(40);
  options.generator_url = "http://cw.example:7784";
  AlertmanagerSink sink(options);
  Alert alert = emergence();
  alert.labels["empty"] = "";
  const auto before = std::chrono::system_clock::now();
  sink.deliver(alert);
  ASSERT_TRUE(eventually([&] { return receiver.bodies().size() >= 3; }));  // the post and two re-posts
  for (const std::string& body : receiver.bodies()) {
    const auto posted = nlohmann::json::parse(body);
    ASSERT_TRUE(posted.is_array()) << body;
    ASSERT_EQ(posted.size(), 1u) << body;
    EXPECT_EQ(posted[0]["labels"]["alertname"], "FeatureEmerged");
    EXPECT_EQ(posted[0]["labels"]["tap"], "blocks.6.resid_post");
    EXPECT_FALSE(posted[0]["labels"].contains("empty")) << body;
    EXPECT_EQ(posted[0]["annotations"]["summary"], "feature 17 emerged");
    EXPECT_EQ(posted[0]["startsAt"], "2026-01-02T03:04:05.000Z");
    EXPECT_EQ(posted[0]["generatorURL"], "http://cw.example:7784");
    // Valid for four re-post intervals from the post.
    EXPECT_GT(parse_rfc3339(posted[0]["endsAt"]), before + milliseconds(150)) << body;
  }

  Alert resolved = alert;
  resolved.status = AlertStatus::kResolved;
  resolved.ends_at = parse_rfc3339("2026-01-02T06:00:00Z");
  sink.deliver(resolved);
  const std::size_t after_resolve = receiver.bodies().size();
  EXPECT_EQ(nlohmann::json::parse(receiver.bodies().back())[0]["endsAt"], "2026-01-02T06:00:00.000Z");
  std::this_thread::sleep_for(milliseconds(200));  // five intervals: no re-post of a resolved alert
  EXPECT_EQ(receiver.bodies().size(), after_resolve);
}

TEST(AlertmanagerSink, RefusesABadUrlAndReportsAnErrorAnswer) {
  AlertmanagerOptions https;
  https.url = "https://am:9093";
  EXPECT_THROW(AlertmanagerSink{https}, std::invalid_argument);
  Receiver receiver;
  AlertmanagerOptions options;
  options.url = receiver.base();
  AlertmanagerSink sink(options);  // no route prefix: /api/v2/alerts is not served (404)
  try {
    sink.deliver(emergence());
    FAIL() << "a 404 was taken as delivered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
}

TEST(JsonLinesSink, AppendsToAnExistingFileAndRefusesABadPath) {
  testing::TempDir dir;
  { std::ofstream(dir.sub("a.jsonl")) << "{\"earlier\":true}\n"; }
  JsonLinesSink sink(dir.sub("a.jsonl"));
  sink.deliver(emergence());
  auto lines = lines_of(read_file(dir.sub("a.jsonl")));  // flushed: readable before the sink closes
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(alert_from_json(nlohmann::json::parse(lines[1])).labels, emergence().labels);
  EXPECT_THROW(JsonLinesSink(dir.sub("missing/dir/a.jsonl")), std::runtime_error);
}

TEST(ExecSink, PassesTheAlertOnStdinAndInTheEnvironment) {
  testing::TempDir dir;
  std::string out = dir.sub("received");
  ExecOptions options;
  options.command = {"/bin/sh", "-c", "cat > \"$0\" && env | grep '^CW_ALERT_' | sort > \"$0.env\"", out};
  ExecSink sink(options);
  sink.deliver(emergence());

  Alert received = alert_from_json(nlohmann::json::parse(read_file(out)));
  EXPECT_EQ(received.labels, emergence().labels);
  EXPECT_EQ(received.annotations, emergence().annotations);
  auto env = lines_of(read_file(out + ".env"));
  for (const char* expected :
       {"CW_ALERT_NAME=FeatureEmerged", "CW_ALERT_STATUS=firing", "CW_ALERT_LABEL_RUN=r1",
        "CW_ALERT_LABEL_TAP=blocks.6.resid_post", "CW_ALERT_ANNOTATION_ONSET_STEP=1000",
        "CW_ALERT_STARTS_AT=2026-01-02T03:04:05.000Z", "CW_ALERT_ENDS_AT="})
    EXPECT_NE(std::find(env.begin(), env.end(), expected), env.end()) << expected;
}

// Run and tap names are chosen by whoever publishes. They reach the command
// only as environment values, never spliced into its command line, so a
// name made of shell syntax stays text for a command that quotes it.
TEST(ExecSink, AHostileRunNameIsAnEnvironmentValueNotShellSyntax) {
  testing::TempDir dir;
  Alert alert = emergence();
  const std::string hostile = "$(touch " + dir.sub("dollar") + ")`touch " + dir.sub("tick") + "`;touch " +
                              dir.sub("semicolon") + " '\"";
  alert.labels["run"] = hostile;
  ExecOptions shell;
  shell.shell = true;
  shell.command = {"printf '%s' \"$CW_ALERT_LABEL_RUN\" > '" + dir.sub("run") + "'"};
  ExecSink(shell).deliver(alert);
  EXPECT_EQ(read_file(dir.sub("run")), hostile);
  for (const char* name : {"dollar", "tick", "semicolon"})
    EXPECT_NE(::access(dir.sub(name).c_str(), F_OK), 0) << name << " was created: the name ran as a command";
}

TEST(ExecSink, ShellModeFailuresAndTimeouts) {
  testing::TempDir dir;
  ExecOptions shell;
  shell.shell = true;
  shell.command = {"cat > '" + dir.sub("via_shell") + "'"};
  ExecSink(shell).deliver(emergence());
  EXPECT_EQ(alert_from_json(nlohmann::json::parse(read_file(dir.sub("via_shell")))).name(), "FeatureEmerged");

  ExecOptions failing;
  failing.command = {"/bin/sh", "-c", "exit 3"};
  try {
    ExecSink(failing).deliver(emergence());
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exit status 3"), std::string::npos) << e.what();
  }

  ExecOptions slow;
  slow.shell = true;
  slow.command = {"sleep 30"};  // the shell's child is killed with it (process group)
  slow.timeout = milliseconds(100);
  try {
    ExecSink(slow).deliver(emergence());
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("killed"), std::string::npos) << e.what();
  }

  ExecOptions missing;
  missing.command = {"conceptwatch-no-such-command"};
  EXPECT_THROW(ExecSink(missing).deliver(emergence()), std::runtime_error);
  EXPECT_THROW(ExecSink(ExecOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace cw
