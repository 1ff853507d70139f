// Issue 11's log and transport rows over the real wire: JSON log lines stay
// one record each whatever a peer names its run, refused-frame warnings are
// rate-limited with a count of the rest, and a multipart message is refused
// without being echoed. The daemon keeps serving a good publisher.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "query/query_protocol.h"
#include "schema/messages.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::RawIngestClient;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(DaemonLogs, JsonLinesEscapeNamesThatLookLikeJson) {
  DaemonProcess daemon({"--log-format", "json", "--log-level", "info"});  // "new run" is an info line
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  // A valid name (UTF-8, no control character, no '/') that would close the
  // message string and add a field of its own if written as it is.
  const std::string forged = R"(x","level":"critical","msg":"forged\)";
  ASSERT_TRUE(client.exchange(encode_hello_frame(testing::make_run(forged, {"tap"}, 16, 256))).is_ack);
  EXPECT_EQ(daemon.query("runs")[0]["run"], forged);

  bool named = false;
  for (const std::string& line : lines_of(daemon.log())) {
    if (line.empty() || line[0] != '{') continue;  // not spdlog's (none expected)
    nlohmann::json record;
    ASSERT_NO_THROW(record = nlohmann::json::parse(line)) << line;
    EXPECT_EQ(record.size(), 4u) << line;  // time, level, pid, msg
    EXPECT_NE(record["level"], "critical") << line;
    if (record["msg"].get<std::string>().find(forged) != std::string::npos) named = true;
  }
  EXPECT_TRUE(named) << daemon.log();
}

TEST(DaemonLogs, RefusedFrameWarningsAreRateLimitedWithACountOfTheRest) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  constexpr int kBad = 300;
  const std::string bad(16, '\x07');  // not a Cap'n Proto message
  for (int i = 0; i < kBad; ++i) client.send(bad);
  int replies = 0;
  while (replies < kBad && client.receive(std::chrono::seconds(5))) ++replies;
  EXPECT_EQ(replies, kBad);

  // Every refusal is either a line of its own or counted in a "suppressed"
  // line written when its second is over (the serving loop flushes once a
  // second, refusal or not).
  const std::regex suppressed(R"(suppressed (\d+) more warnings of this kind \(unreadable\))");
  int logged = 0, counted = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    logged = counted = 0;
    for (const std::string& line : lines_of(daemon.log())) {
      std::smatch match;
      if (line.find("unreadable message") != std::string::npos) ++logged;
      if (std::regex_search(line, match, suppressed)) counted += std::stoi(match[1]);
    }
  } while (logged + counted < kBad && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(logged + counted, kBad) << daemon.log();
  EXPECT_GT(counted, 0);
  EXPECT_LE(logged, 60) << "10 a second: 300 frames take well under 6 s";
  const nlohmann::json status = daemon.query("status")["daemon"];
  EXPECT_EQ(status["refusals_not_logged"].get<int>(), counted) << status.dump();
  EXPECT_EQ(status["errors"].get<int>(), kBad);
}

TEST(DaemonLogs, AMultipartMessageIsRefusedAndNotEchoed) {
  DaemonProcess daemon;
  daemon.start();
  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 5000);
  dealer.connect(daemon.ingest_endpoint());
  // 20 parts of 64 KiB: before, every part but the last came back.
  const std::string part(64 << 10, 'p');
  for (int i = 0; i < 20; ++i) dealer.send(zmq::buffer(part), i + 1 < 20 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  zmq::message_t reply;
  ASSERT_TRUE(dealer.recv(reply));
  EXPECT_FALSE(reply.more()) << "the reply is one frame";
  EXPECT_LT(reply.size(), 1024u);
  IncomingMessage in(reply.data(), reply.size(), 1 << 20);
  ASSERT_TRUE(in.get().getBody().isError());
  const ErrorReply error = read_error(in.get().getBody().getError());
  EXPECT_EQ(error.code, wire::ErrorCode::MALFORMED);
  EXPECT_NE(error.message.find("this one came in 20 parts"), std::string::npos) << error.message;

  // The same socket and everyone else are still served.
  const RunDescription run = testing::make_run("after", {"tap"}, 16, 256);
  dealer.send(zmq::buffer(encode_hello_frame(run)));
  ASSERT_TRUE(dealer.recv(reply));
  EXPECT_TRUE(IncomingMessage(reply.data(), reply.size(), 1 << 20).get().getBody().isAck());
  EXPECT_EQ(daemon.query("runs")[0]["run"], "after");
}

// A query peer that never reads its replies: the daemon queues at most 16
// for it (ZMQ_SNDHWM) and drops the rest, instead of the 100,000 before
// (here 200 replies of ~0.4 MB each, 80 MB), and answers everyone else.
TEST(DaemonLogs, RepliesToAPeerThatDoesNotReadAreBounded) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  ASSERT_TRUE(client.exchange(encode_hello_frame(testing::make_run("big", {"tap"}, 16, 65536, 256))).is_ack);

  zmq::context_t context;
  zmq::socket_t flood(context, zmq::socket_type::dealer);
  flood.set(zmq::sockopt::linger, 0);
  flood.set(zmq::sockopt::rcvhwm, 1);  // and so the daemon's side fills
  flood.set(zmq::sockopt::rcvbuf, 64 << 10);
  flood.connect(daemon.query_endpoint());
  constexpr int kQueries = 200;
  const Frame query = encode_query_frame("run_description", {{"run", "big"}});
  for (int i = 0; i < kQueries; ++i) flood.send(zmq::buffer(query));
  EXPECT_EQ(daemon.query("runs")[0]["run"], "big");  // meanwhile, others are answered
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the daemon answers all 200 (~0.3 s unloaded)

  int received = 0;
  flood.set(zmq::sockopt::rcvtimeo, 500);
  for (zmq::message_t reply; flood.recv(reply);) ++received;
  EXPECT_GT(received, 0);
  EXPECT_LT(received, kQueries / 2) << "replies were queued without a bound";
  EXPECT_TRUE(daemon.query("status")["daemon"]["up"].get<bool>());
}

}  // namespace
}  // namespace cw
