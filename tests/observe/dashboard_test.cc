// The dashboard on the real conceptwatchd's HTTP port: its embedded files,
// /api answering byte for byte what `conceptwatch --json` prints (the CLI
// process), the bound on event streams, and the page itself in headless
// Chromium while a planted stream makes the daemon raise a phase transition.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "observe/dashboard_routes.h"
#include "schema/unix_time.h"
#include "tests/analysis/loss_step_stream.h"
#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/observe/headless_chromium.h"
#include "tests/store/store_fixture.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using Clock = std::chrono::steady_clock;

std::string cli_json(const DaemonProcess& daemon, const std::string& args) {
  return testing::cli_output(daemon, "--json " + args);
}

httplib::Result get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto response = client.Get(path.c_str());
  if (!response) throw std::runtime_error("GET " + path + " failed: " + httplib::to_string(response.error()));
  return response;
}

std::string source_file(const std::string& path) {
  std::ifstream in(std::string(CW_SOURCE_DIR) + "/" + path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An open GET /events on a raw socket; what came back until "event: ready"
// (or until the server answered otherwise, or 5 s passed).
struct RawStream {
  explicit RawStream(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("connect");
    const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    if (::write(fd, request.data(), request.size()) != ssize_t(request.size())) throw std::runtime_error("write");
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (head.find("event: ready") == std::string::npos && Clock::now() < deadline) {
      pollfd p = {fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) break;
      head.append(chunk, std::size_t(n));
      if (head.find(" 503 ") != std::string::npos && head.find("\r\n\r\n") != std::string::npos) break;
    }
  }
  ~RawStream() { ::close(fd); }
  int fd = -1;
  std::string head;
};

TEST(Dashboard, ServesItsEmbeddedFilesAndAnswersAsTheCliPrints) {
  const int port = testing::free_port();
  DaemonProcess daemon({"--store-only", "--http", "127.0.0.1:" + std::to_string(port)});
  daemon.start();
  PlantedOptions options;
  options.d_model = 8;
  options.n_tokens = 128;
  options.n_snapshots = 2;
  const auto planted = make_planted_dictionary(options);
  for (int64_t t = 0; t < 2; ++t) testing::publish_planted_snapshot(daemon, "web run", planted, t);

  // The files, exactly as in the source tree: compiled in, nothing read at run time.
  for (const std::string name : {"index.html", "dashboard.js", "dashboard.css"}) {
    auto response = get(port, "/" + name);
    EXPECT_EQ(response->status, 200) << name;
    EXPECT_EQ(response->body, source_file("observe/dashboard/" + name)) << name;
  }
  EXPECT_EQ(get(port, "/")->body, source_file("observe/dashboard/index.html"));
  EXPECT_EQ(get(port, "/dashboard.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");

  // /api/<command> prints what the CLI prints.
  EXPECT_EQ(get(port, "/api/runs")->body, cli_json(daemon, "runs"));
  EXPECT_EQ(get(port, "/api/snapshots?run=web%20run&tap=resid")->body, cli_json(daemon, "snapshots --run 'web run' --tap resid"));
  EXPECT_EQ(get(port, "/api/events")->body, "[]\n");  // store-only: nothing raised

  // Mistakes are the handler's own messages; commands beyond the CLI's views are not served.
  auto unknown = get(port, "/api/crosscoder?run=nope");
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(nlohmann::json::parse(unknown->body)["error"], "unknown run 'nope'");
  auto no_id = get(port, "/api/feature?run=web%20run&id=first");
  EXPECT_EQ(no_id->status, 400);
  EXPECT_EQ(nlohmann::json::parse(no_id->body)["error"], "missing parameter 'id'");
  EXPECT_EQ(get(port, "/api/run_description?run=web%20run")->status, 404);
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

TEST(Dashboard, UrlParametersBecomeTheQueryParameters) {
  const nlohmann::json params = dashboard_params(
      {{"run", "12"}, {"id", "7"}, {"limit", "-1"}, {"after", "12a"}, {"tap", "resid"}, {"step", "99999999999999999999"}});
  EXPECT_EQ(params, nlohmann::json({{"run", "12"},  // a run named 12 stays a name
                                    {"id", 7},
                                    {"limit", -1},
                                    {"after", "12a"},  // not an integer: the handler says so
                                    {"tap", "resid"},
                                    {"step", "99999999999999999999"}}));
  EXPECT_TRUE(dashboard_command("features"));
  EXPECT_FALSE(dashboard_command("run_description"));
}

TEST(Dashboard, EventStreamsAreBoundedAndBlockNothing) {
  const int port = testing::free_port();
  DaemonProcess daemon({"--store-only", "--http", "127.0.0.1:" + std::to_string(port)});
  daemon.start();
  std::vector<std::unique_ptr<RawStream>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<RawStream>(port));
    EXPECT_NE(open.back()->head.find("text/event-stream"), std::string::npos) << open.back()->head;
    EXPECT_NE(open.back()->head.find("event: ready"), std::string::npos) << open.back()->head;
  }
  RawStream refused(port);
  EXPECT_NE(refused.head.find("HTTP/1.1 503"), std::string::npos) << refused.head;
  // With every stream taken, the other requests are still answered at once.
  const auto before = Clock::now();
  EXPECT_EQ(get(port, "/healthz")->body, "ok\n");
  EXPECT_EQ(get(port, "/metrics")->status, 200);
  EXPECT_EQ(get(port, "/api/status")->status, 200);
  EXPECT_LT(Clock::now() - before, std::chrono::seconds(2));
  // And open streams do not hold the daemon up when it stops.
  const auto stopping = Clock::now();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  EXPECT_LT(Clock::now() - stopping, std::chrono::seconds(3));
}

// Is `js` true in the page now?
bool holds(testing::HeadlessChromium& page, const std::string& js) { return page.evaluate("!!(" + js + ")") == true; }

TEST(DashboardBrowser, ATransitionAppearsLiveInHeadlessChromium) {
  if (testing::HeadlessChromium::binary().empty()) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  const int port = testing::free_port();
  testing::TempDir dir;
  // The store fixture's stream and crosscoder: the daemon raises a transition.
  const std::string config = testing::write_crosscoder_config(dir, testing::kFixtureCrosscoder);
  DaemonProcess daemon({"--config", config, "--http", "127.0.0.1:" + std::to_string(port)});
  daemon.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  testing::HeadlessChromium page(url);
  ASSERT_TRUE(page.wait_for("document.body.dataset.events === 'live'", std::chrono::seconds(10))) << page.log();

  const testing::LossStepStream stream = testing::loss_step_stream();
  // After each snapshot is taken in: has a transition been raised? Then the
  // page must show it (feed, timeline, list) within a few seconds; the feed
  // stamps when it came (data-received, the browser's clock: this machine's).
  int64_t latency_ms = -1;
  testing::stream_planted(daemon, "web", stream.planted, stream.scalars, {}, [&](int64_t) {
    if (latency_ms >= 0) return;
    const auto raised = daemon.query("events", {{"run", "web"}, {"type", "phase_transition"}});
    if (raised.empty()) return;
    const bool shown = page.wait_for(
        "document.querySelector('#events li.event-phase_transition') && "
        "document.querySelector('#timeline g.transition') && document.querySelector('#transitions li.transition')",
        std::chrono::seconds(5));
    ASSERT_TRUE(shown) << page.evaluate("document.body.innerText").dump() << page.log();
    const auto received = page.evaluate("document.querySelector('#events li.event-phase_transition').dataset.received");
    ASSERT_TRUE(received.is_string()) << "the transition came with the history, not live";
    latency_ms = std::stoll(received.get<std::string>()) - raised[0]["raised_unix_ms"].get<int64_t>();
  });
  ASSERT_GE(latency_ms, 0) << "no phase transition raised:\n" << daemon.log();
  std::printf("transition raised, in the page's events feed %lld ms later\n", (long long)latency_ms);
  EXPECT_LT(latency_ms, 3000);

  // The charts and the heatmap after the last update.
  // Four lines: explained variance of the rows trained on and of the
  // held-out rows, L0, dead fraction.
  ASSERT_TRUE(page.wait_for("document.querySelectorAll('#metrics svg path').length === 4", std::chrono::seconds(10)))
      << page.evaluate("document.querySelectorAll('#metrics svg path').length").dump();
  EXPECT_TRUE(holds(page, "document.querySelectorAll('#metrics svg path')[1].textContent === 'held-out rows'"));
  ASSERT_TRUE(page.wait_for("document.getElementById('heatmap').dataset.snapshots === '8'", std::chrono::seconds(10)));
  EXPECT_TRUE(holds(page, "document.getElementById('title').textContent === 'web / resid'"));
  EXPECT_TRUE(holds(page, "document.querySelector('#runs button').textContent.includes('8 snapshots')"));
  // A real hover over the heatmap's first cell, then a click: the feature's view.
  // (in the viewport first: mouse events take viewport coordinates)
  page.evaluate("document.getElementById('heatmap').scrollIntoView()");
  const auto view = page.evaluate("(() => { const r = document.getElementById('heatmap').getBoundingClientRect();"
                                  " return [r.left, r.top]; })()");
  page.mouse_move(view[0].get<double>() + 50, view[1].get<double>() + 8);
  const std::string tooltip = page.evaluate("document.getElementById('tooltip').textContent");
  EXPECT_TRUE(holds(page, "!document.getElementById('tooltip').hidden")) << tooltip;
  EXPECT_NE(tooltip.find("feature "), std::string::npos) << tooltip;
  EXPECT_NE(tooltip.find(" · step 0 · norm "), std::string::npos) << tooltip;
  page.click(view[0].get<double>() + 50, view[1].get<double>() + 8);
  ASSERT_TRUE(page.wait_for("!document.getElementById('feature').hidden && "
                            "document.querySelectorAll('#feature-body svg path').length === 2 && "
                            "document.getElementById('feature-body').textContent.includes('top contexts')",
                            std::chrono::seconds(5)));
  const std::string title = page.evaluate("document.getElementById('feature-title').textContent");
  EXPECT_EQ(title.rfind("feature " + tooltip.substr(8, tooltip.find(' ', 8) - 8) + " of web / resid", 0), 0u)
      << title << " / " << tooltip;

  // /api/phases is what the CLI prints, transition included; /api/events
  // the array whose elements the CLI prints as JSON lines.
  EXPECT_EQ(get(port, "/api/phases?run=web")->body, cli_json(daemon, "phases --run web"));
  std::string lines;
  for (const auto& event : nlohmann::json::parse(get(port, "/api/events?run=web")->body)) lines += event.dump() + "\n";
  EXPECT_EQ(lines, cli_json(daemon, "events --run web"));

  const std::string shot = std::string(CW_TEST_ARTIFACTS) + "/dashboard.png";
  page.screenshot(shot);
  std::printf("screenshot: %s\n", shot.c_str());
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
