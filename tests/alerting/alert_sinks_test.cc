// The real sinks against real receivers: an httplib server on 127.0.0.1, a
// ZeroMQ SUB socket, a file, a shell.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <zmq.hpp>

#include "daemon/alerting/alert_dispatcher.h"
#include "daemon/alerting/exec_sink.h"
#include "daemon/alerting/jsonl_sink.h"
#include "daemon/alerting/webhook_sink.h"
#include "daemon/alerting/zmq_pub_sink.h"
#include "tests/alerting/alert_test_util.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::eventually;
using testing::make_alert;

// An Alertmanager-style receiver on 127.0.0.1 that records the bodies it is
// POSTed; with hold(), its handler waits until release().
class WebhookReceiver {
 public:
  explicit WebhookReceiver(int port = 0) {
    server_.Post("/api/v1/alerts", [this](const httplib::Request& request, httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++requests_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !held_; });
      bodies_.push_back(request.body);
      response.set_content("{}", "application/json");
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1") : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ <= 0) throw std::runtime_error("cannot bind the test webhook receiver");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    if (!eventually([this] { return server_.is_running(); })) throw std::runtime_error("test webhook receiver did not start");
  }
  ~WebhookReceiver() {
    release();
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return base() + "/api/v1/alerts"; }
  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = false;
    changed_.notify_all();
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  int requests_ = 0;
  std::vector<std::string> bodies_;
};

// A 127.0.0.1 port nobody listens on (bound once, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

WebhookOptions webhook_to(const std::string& url) {
  WebhookOptions options;
  options.url = url;
  return options;
}

ExecOptions exec_of(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  ExecOptions options;
  options.argv = std::move(argv);
  options.timeout = timeout;
  return options;
}

DeliveryPolicy fast_retries() {
  DeliveryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(5);
  policy.max_backoff = std::chrono::milliseconds(20);
  policy.max_attempts = 1000;
  return policy;
}

// A PUB sink with a SUB already connected and subscribed: PUB drops what it
// sends before the subscription arrives, so warm up until one gets through.
struct SubscribedPubSink {
  zmq::context_t context{1};
  zmq::socket_t sub{context, zmq::socket_type::sub};
  std::unique_ptr<ZmqPubSink> sink = std::make_unique<ZmqPubSink>("tcp://127.0.0.1:*");

  SubscribedPubSink() {
    sub.set(zmq::sockopt::subscribe, "");
    sub.set(zmq::sockopt::rcvtimeo, 20);
    sub.connect(sink->bound_endpoint());
    bool joined = eventually([this] {
      sink->deliver(make_alert("Warmup"));
      return !receive().empty();
    });
    if (!joined) throw std::runtime_error("SUB never joined");
    while (!receive().empty()) {
    }
  }
  // {topic, body}, or {} when nothing arrives in time.
  std::vector<std::string> receive() {
    std::vector<std::string> frames;
    zmq::message_t message;
    while (sub.recv(message)) {
      frames.push_back(message.to_string());
      if (!message.more()) break;
    }
    return frames;
  }
};

void expect_alertmanager_v4(const std::string& body, const Alert& alert) {
  nlohmann::json payload = nlohmann::json::parse(body);
  EXPECT_EQ(payload["version"], "4");
  EXPECT_EQ(payload["status"], "firing");
  EXPECT_EQ(payload["receiver"], "conceptwatch");
  EXPECT_EQ(payload["groupLabels"]["alertname"], alert.labels.at("alertname"));
  ASSERT_EQ(payload["alerts"].size(), 1u);
  EXPECT_EQ(payload["alerts"][0]["labels"]["alertname"], alert.labels.at("alertname"));
  EXPECT_EQ(payload["alerts"][0]["labels"]["run"], "repeat-7");
  EXPECT_EQ(payload["alerts"][0]["fingerprint"], alert_fingerprint(alert.labels));
  EXPECT_EQ(payload["alerts"][0]["startsAt"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(payload["alerts"][0]["annotations"]["onset_step"], "412");
}

TEST(WebhookSink, PostsAlertmanagerPayload) {
  WebhookReceiver receiver;
  WebhookSink sink(webhook_to(receiver.url()));
  Alert alert = make_alert("PhaseTransition");
  sink.deliver(alert);
  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  expect_alertmanager_v4(bodies[0], alert);
}

TEST(WebhookSink, FailuresSayWhy) {
  WebhookOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook";
  WebhookSink dead(options);
  try {
    dead.deliver(make_alert());
    FAIL() << "delivered to a closed port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(options.url), std::string::npos) << e.what();
  }
  WebhookReceiver receiver;
  WebhookSink wrong_path(webhook_to(receiver.base() + "/nope"));
  try {
    wrong_path.deliver(make_alert());
    FAIL() << "a 404 counted as delivered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WebhookSink(webhook_to("https://example.com/hook")), std::invalid_argument);
  EXPECT_THROW(WebhookSink(webhook_to("http://host:99999/x")), std::invalid_argument);
  EXPECT_THROW(WebhookSink(webhook_to("http:///x")), std::invalid_argument);
}

TEST(AlertSinks, DeadAndHangingWebhooksDoNotDelayOtherSinks) {
  testing::TempDir dir;
  WebhookReceiver hanging;
  hanging.hold();
  SubscribedPubSink pub;
  WebhookOptions hanging_options;
  hanging_options.url = hanging.url();
  hanging_options.read_timeout = std::chrono::seconds(60);  // it hangs for the whole test
  WebhookOptions dead_options;
  dead_options.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/api/v1/alerts";

  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<WebhookSink>(dead_options), fast_retries());
  dispatcher.add_sink(std::make_unique<WebhookSink>(hanging_options), fast_retries());
  dispatcher.add_sink(std::make_unique<JsonlSink>(dir.sub("alerts.jsonl")), fast_retries());
  dispatcher.add_sink(std::move(pub.sink), fast_retries());

  Alert alert = make_alert("FeatureEmerged");
  dispatcher.emit(alert);
  std::vector<std::string> frames;
  ASSERT_TRUE(eventually([&] { return !(frames = pub.receive()).empty(); }));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "FeatureEmerged");
  EXPECT_EQ(nlohmann::json::parse(frames[1])["fingerprint"], alert_fingerprint(alert.labels));
  ASSERT_TRUE(eventually([&] { return read_lines(dir.sub("alerts.jsonl")).size() == 1; }));
  Alert logged = alert_from_json(nlohmann::json::parse(read_lines(dir.sub("alerts.jsonl"))[0]));
  EXPECT_EQ(logged.labels, alert.labels);

  // Meanwhile the dead webhook keeps retrying and the hanging one waits.
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].retried >= 2; }));
  ASSERT_TRUE(eventually([&] { return hanging.requests() == 1; }));
  auto stats = dispatcher.stats();
  EXPECT_EQ(stats[0].delivered, 0u);
  EXPECT_FALSE(stats[0].last_error.empty());
  EXPECT_EQ(stats[1].delivered, 0u);
  EXPECT_EQ(stats[2].delivered, 1u);
  EXPECT_EQ(stats[3].delivered, 1u);

  hanging.release();
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[1].delivered == 1; }));
  expect_alertmanager_v4(hanging.bodies().at(0), alert);
  EXPECT_FALSE(dispatcher.shutdown(std::chrono::milliseconds(50)));  // the dead one never drains
  EXPECT_EQ(dispatcher.stats()[0].dropped_failed, 1u);
}

TEST(AlertSinks, WebhookRetriesUntilTheReceiverComesUp) {
  int port = closed_port();
  WebhookOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/alerts";
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<WebhookSink>(options), fast_retries());
  Alert alert = make_alert("PhaseTransition");
  dispatcher.emit(alert);
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].retried >= 3; }));
  EXPECT_EQ(dispatcher.stats()[0].delivered, 0u);

  WebhookReceiver receiver(port);
  ASSERT_TRUE(eventually([&] { return dispatcher.stats()[0].delivered == 1; }));
  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  expect_alertmanager_v4(bodies[0], alert);
  EXPECT_TRUE(dispatcher.shutdown(std::chrono::seconds(20)));
  EXPECT_EQ(dispatcher.stats()[0].dropped(), 0u);
}

TEST(JsonlSink, AppendsOneLinePerAlert) {
  testing::TempDir dir;
  std::string path = dir.sub("alerts.jsonl");
  {
    JsonlSink sink(path);
    sink.deliver(make_alert("A"));
  }
  JsonlSink again(path);  // appends, never truncates
  Alert resolved = make_alert("B");
  resolved.status = AlertStatus::kResolved;
  resolved.ends_at = resolved.starts_at + std::chrono::seconds(1);
  again.deliver(resolved);
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["labels"]["alertname"], "A");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["status"], "resolved");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["endsAt"], "2023-11-14T22:13:21.123Z");
  EXPECT_THROW(JsonlSink(dir.sub("no/such/dir/alerts.jsonl")), std::runtime_error);
}

TEST(ExecSink, RunsCommandWithAlertOnStdinAndEnvironment) {
  testing::TempDir dir;
  std::string out = dir.sub("received.json");
  ExecSink sink(exec_of({"/bin/sh", "-c",
                         "cat > " + out + "; echo \"$CW_ALERT_NAME $CW_ALERT_STATUS $CW_ALERT_RUN $CW_ALERT_SEVERITY\" > " +
                             out + ".env"}));
  Alert alert = make_alert("FeatureEmerged");
  sink.deliver(alert);
  auto lines = read_lines(out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(alert_from_json(nlohmann::json::parse(lines[0])).labels, alert.labels);
  EXPECT_EQ(read_lines(out + ".env"), std::vector<std::string>{"FeatureEmerged firing repeat-7 info"});
}

TEST(ExecSink, FailuresSayWhy) {
  auto message = [](ExecOptions options) {
    try {
      ExecSink(std::move(options)).deliver(make_alert());
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("delivered");
  };
  EXPECT_NE(message(exec_of({"/bin/sh", "-c", "exit 3"})).find("exited with status 3"), std::string::npos);
  EXPECT_NE(message(exec_of({"/nonexistent/notifier"})).find("cannot start"), std::string::npos);
  // Ignores its stdin and exits: not a failure, and no SIGPIPE for us.
  EXPECT_EQ(message(exec_of({"/bin/true"})), "delivered");
  EXPECT_NE(message(exec_of({"/bin/sh", "-c", "sleep 30"}, std::chrono::milliseconds(50))).find("killed"), std::string::npos);
  EXPECT_THROW(ExecSink(exec_of({})), std::invalid_argument);
}

}  // namespace
}  // namespace cw
