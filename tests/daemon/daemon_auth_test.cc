// CURVE on conceptwatchd's sockets, through the real daemon process over
// real sockets: a key in ingest_keys publishes, a key in query_keys reads
// and cannot publish, an unknown key (or none) gets neither, and listening
// beyond loopback without keys is refused at start-up.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <zmq.hpp>

#include "auth/curve_keys.h"
#include "daemon/exit_codes.h"
#include "hooks/publisher.h"
#include "query/daemon_client.h"
#include "tests/support/daemon_keys.h"
#include "tests/support/daemon_process.h"
#include "tests/support/test_data.h"

#if !defined(CW_CLI_PATH) || !defined(CW_DAEMON_PATH) || !defined(CW_PYTHON)
#error "CW_CLI_PATH, CW_DAEMON_PATH and CW_PYTHON must be defined"
#endif

namespace cw {
namespace {

using namespace std::chrono_literals;
using testing::DaemonKeys;
using testing::DaemonProcess;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Snapshots the daemon has of `run` (0 when it does not know the run).
uint64_t snapshots_of(const DaemonProcess& daemon, const std::string& run) {
  for (const auto& entry : daemon.query("runs")) {
    if (entry["run"] != run) continue;
    uint64_t count = 0;
    for (const auto& tap : entry["taps"]) count += tap["snapshots"].get<uint64_t>();
    return count;
  }
  return 0;
}

class DaemonAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = std::make_unique<DaemonKeys>(scratch_.sub("keys"));
    std::vector<std::string> args = keys_->daemon_args();
    args.push_back("--store-only");
    daemon_ = std::make_unique<DaemonProcess>(args);
    daemon_->use_client_keys(keys_->as("reader"));  // start() waits for "status"
    daemon_->start();
  }

  // Publishes one snapshot of `run_id` holding `keys`; waits up to `wait`
  // for the ack, or until the publisher reports an error.
  PublisherStats publish(const ClientKeyFiles& keys, const std::string& run_id, std::chrono::milliseconds wait) {
    const RunDescription run = testing::make_run(run_id, {"blocks.0"}, 16, 64);
    PublisherOptions options;
    options.endpoint = daemon_->ingest_endpoint();
    options.keys = keys;
    options.close_timeout = 0ms;
    Publisher publisher(run, options);
    const auto data = testing::random_activations(1, 64 * 16);
    EXPECT_TRUE(publisher.publish(testing::probe_meta(run, "blocks.0", 1, data), data.data()));
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!publisher.flush(100ms) && publisher.stats().last_error.empty() && std::chrono::steady_clock::now() < deadline) {
    }
    return publisher.stats();
  }

  // Runs the CLI with `args` against the daemon; returns its exit status
  // and leaves its output in cli_output_.
  int cli(const std::string& args) {
    const std::string out = scratch_.sub("cli.out");
    const std::string command = std::string(CW_CLI_PATH) + " --endpoint " + daemon_->query_endpoint() + " --ingest " +
                                daemon_->ingest_endpoint() + " --data-dir " + daemon_->data_dir() +
                                " --timeout-ms 5000 " + args + " > " + out + " 2>&1";
    const int status = std::system(command.c_str());
    cli_output_ = read_text(out);
    return WEXITSTATUS(status);
  }

  testing::TempDir scratch_;
  std::unique_ptr<DaemonKeys> keys_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string cli_output_;
};

TEST_F(DaemonAuthTest, UnknownKeyIsRefusedOnBothSockets) {
  const PublisherStats stranger = publish(keys_->as("stranger"), "intruder", 10s);
  EXPECT_EQ(stranger.acked, 0u);
  EXPECT_FALSE(stranger.hello_acked);
  EXPECT_NE(stranger.last_error.find("refused this client's key"), std::string::npos) << stranger.last_error;
  try {
    DaemonClient(daemon_->query_endpoint(), 5000ms, keys_->as("stranger")).query("status");
    ADD_FAILURE() << "an unknown key was answered";
  } catch (const DaemonRefused& e) {
    EXPECT_NE(std::string(e.what()).find("query keys"), std::string::npos) << e.what();
  }
  // No keys at all: told that the daemon wants them, on both sockets.
  const PublisherStats anonymous = publish({}, "intruder", 10s);
  EXPECT_EQ(anonymous.acked, 0u);
  EXPECT_NE(anonymous.last_error.find("requires CURVE keys"), std::string::npos) << anonymous.last_error;
  EXPECT_THROW(DaemonClient(daemon_->query_endpoint(), 5000ms).query("status"), DaemonRefused);

  // The daemon counted the refusals, stored nothing, and serves the others.
  const auto status = daemon_->query("status");
  const auto& roles = status["daemon"]["auth"]["roles"];
  EXPECT_TRUE(status["daemon"]["auth"]["curve"].get<bool>());
  EXPECT_GE(roles["ingest"]["refused"].get<uint64_t>(), 1u) << status.dump();
  EXPECT_GE(roles["query"]["refused"].get<uint64_t>(), 1u) << status.dump();
  EXPECT_EQ(snapshots_of(*daemon_, "intruder"), 0u);
  EXPECT_EQ(publish(keys_->as("writer"), "real", 20s).acked, 1u);
}

TEST_F(DaemonAuthTest, WriterKeyPublishesAndReadOnlyKeyCannot) {
  const PublisherStats writer = publish(keys_->as("writer"), "job", 20s);
  EXPECT_EQ(writer.acked, 1u) << writer.last_error;
  EXPECT_EQ(snapshots_of(*daemon_, "job"), 1u);

  // The read-only key on the ingest socket: refused, nothing stored.
  const PublisherStats reader = publish(keys_->as("reader"), "reader-run", 10s);
  EXPECT_EQ(reader.acked, 0u);
  EXPECT_NE(reader.last_error.find("ingest keys"), std::string::npos) << reader.last_error;
  EXPECT_EQ(snapshots_of(*daemon_, "reader-run"), 0u);
  // And the writer's key alone does not read.
  EXPECT_THROW(DaemonClient(daemon_->query_endpoint(), 5000ms, keys_->as("writer")).query("runs"), DaemonRefused);
}

// A key directory is read at each handshake: a .pub file added lets its
// owner in at the next connection, and removed keeps them out, with no
// restart.
TEST_F(DaemonAuthTest, KeysAddedOrRemovedTakeEffectWithoutARestart) {
  const std::string granted = scratch_.sub("keys/query.d/stranger.pub");
  EXPECT_THROW(DaemonClient(daemon_->query_endpoint(), 5000ms, keys_->as("stranger")).query("status"), DaemonRefused);
  std::filesystem::copy_file(scratch_.sub("keys/stranger.pub"), granted);
  EXPECT_TRUE(DaemonClient(daemon_->query_endpoint(), 5000ms, keys_->as("stranger")).query("status")["daemon"]["up"]);
  std::filesystem::remove(granted);
  EXPECT_THROW(DaemonClient(daemon_->query_endpoint(), 5000ms, keys_->as("stranger")).query("status"), DaemonRefused);
}

TEST_F(DaemonAuthTest, CliWithReadOnlyKeyQueriesButCannotImport) {
  ASSERT_EQ(cli(keys_->cli_args("reader") + " status --json"), 0) << cli_output_;
  EXPECT_NE(cli_output_.find("\"up\": true"), std::string::npos) << cli_output_;

  const std::string probe = scratch_.sub("probe.npy"), activations = scratch_.sub("a.npy");
  ASSERT_EQ(std::system((std::string(CW_PYTHON) + " -c \"import numpy as np; np.save('" + probe +
                         "', np.arange(64).reshape(1, 64)); np.save('" + activations +
                         "', np.ones((64, 8), np.float32))\"")
                            .c_str()),
            0);
  const std::string import = " import --run imported --tap t --step 5 --wait 5 --probe-tokens " + probe + " " + activations;
  EXPECT_NE(cli(keys_->cli_args("reader") + import), 0) << cli_output_;
  EXPECT_NE(cli_output_.find("refused this client's key"), std::string::npos) << cli_output_;
  EXPECT_EQ(snapshots_of(*daemon_, "imported"), 0u);

  // An unknown key is told so; the CLI does not fall back to reading the
  // data directory as it does for a daemon that is down.
  EXPECT_NE(cli(keys_->cli_args("stranger") + " runs"), 0);
  EXPECT_NE(cli_output_.find("refused this client's key"), std::string::npos) << cli_output_;
  EXPECT_EQ(cli_output_.find("read-only"), std::string::npos) << cli_output_;

  // Import reads the run's description before it publishes: the writer's
  // key alone is told it needs both roles; a key with both imports.
  EXPECT_NE(cli(keys_->cli_args("writer") + import), 0) << cli_output_;
  EXPECT_NE(cli_output_.find("must be in both query_keys and ingest_keys"), std::string::npos) << cli_output_;
  ASSERT_EQ(cli(keys_->cli_args("admin") + import), 0) << cli_output_;
  EXPECT_EQ(snapshots_of(*daemon_, "imported"), 1u);
}

// A process that binds the daemon's port first (while it is down) gets
// nothing from a job with keys: without the daemon's secret key it cannot
// complete the handshake, whether it speaks CURVE with a key of its own or
// no CURVE at all.
TEST(DaemonAuth, APortSquatterWithoutTheServerKeyReceivesNothing) {
  testing::TempDir dir;
  const DaemonKeys keys(dir.sub("keys"));
  for (const bool squatter_curve : {true, false}) {
    SCOPED_TRACE(squatter_curve ? "squatter with its own CURVE key" : "squatter without CURVE");
    zmq::context_t context;
    zmq::socket_t squatter(context, zmq::socket_type::router);
    squatter.set(zmq::sockopt::linger, 0);
    if (squatter_curve) {  // no ZAP handler: it would let any client key in
      squatter.set(zmq::sockopt::curve_server, 1);
      squatter.set(zmq::sockopt::curve_secretkey, generate_key_pair().secret_key);
    }
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
    squatter.bind(endpoint);

    const RunDescription run = testing::make_run("secret-run", {"blocks.0"}, 16, 64);
    PublisherOptions options;
    options.endpoint = endpoint;
    options.keys = keys.as("writer");
    options.close_timeout = 0ms;
    Publisher publisher(run, options);
    const auto data = testing::random_activations(1, 64 * 16);
    ASSERT_TRUE(publisher.publish(testing::probe_meta(run, "blocks.0", 1, data), data.data()));
    zmq::pollitem_t items[] = {{squatter.handle(), 0, ZMQ_POLLIN, 0}};
    EXPECT_EQ(zmq::poll(items, 1, 2000ms), 0) << "the squatter received a message";
    // The publisher says why once ZeroMQ reports the failed handshake (under
    // a loaded ctest -j2 that came after the 2 s above).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (publisher.stats().last_error.empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    const PublisherStats stats = publisher.stats();
    EXPECT_FALSE(stats.hello_acked);
    // Without CURVE, ZeroMQ reports the mechanism mismatch ("does not use
    // CURVE") or, when the squatter's close arrives first, a handshake
    // failure with no detail, whose message asks the same question (a
    // clean-clone CI run here under load, stop 27): either tells the user
    // to check the daemon's keys.
    const bool says_why = squatter_curve ? stats.last_error.find("CURVE handshake") != std::string::npos
                                         : stats.last_error.find("does not use CURVE") != std::string::npos ||
                                               stats.last_error.find("does the daemon use CURVE?") != std::string::npos;
    EXPECT_TRUE(says_why) << stats.last_error;
  }
}

TEST(DaemonAuth, KeygenWritesAPairWithAPrivateSecret) {
  testing::TempDir dir;
  const std::string base = dir.sub("job"), out = dir.sub("out.json");
  const std::string command = std::string(CW_CLI_PATH) + " keygen " + base + " --json > " + out + " 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(command.c_str())), 0) << read_text(out);
  const auto answer = nlohmann::json::parse(read_text(out));
  EXPECT_EQ(answer["public_key"].get<std::string>().size(), 40u);
  EXPECT_EQ(answer["secret_key_file"], base + ".secret");
  EXPECT_NE(read_text(base + ".pub").find(answer["public_key"].get<std::string>()), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat((base + ".secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // A second keygen to the same path would lose the first secret: refused.
  EXPECT_NE(WEXITSTATUS(std::system(command.c_str())), 0);
  EXPECT_NE(read_text(out).find("never overwritten"), std::string::npos) << read_text(out);
}

TEST(DaemonAuth, NonLoopbackWithoutKeysIsRefusedAtStartUp) {
  testing::TempDir dir;
  const std::string data = dir.sub("data"), out = dir.sub("out.txt");
  const std::string query = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
  const std::string command = std::string(CW_DAEMON_PATH) + " --store-only --data-dir " + data + " --query " + query +
                              " --ingest tcp://0.0.0.0:" + std::to_string(testing::free_port()) + " > " + out + " 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(command.c_str())), kExitConfig);  // not restarted by systemd
  EXPECT_NE(read_text(out).find("refusing to listen on tcp://0.0.0.0:"), std::string::npos) << read_text(out);
  EXPECT_NE(read_text(out).find("without authentication"), std::string::npos) << read_text(out);
  EXPECT_FALSE(std::filesystem::exists(data)) << "the refused daemon created its data directory";
}

}  // namespace
}  // namespace cw
