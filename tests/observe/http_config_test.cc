// [http] in the daemon's TOML: off in the built-in defaults, on at loopback
// in the shipped file the systemd unit reads, and a misspelt key refused.
#include <gtest/gtest.h>

#include <fstream>

#include "daemon/daemon_config.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

TEST(HttpConfig, OffByDefaultOnAtLoopbackInTheShippedFile) {
  EXPECT_EQ(default_daemon_config().http_listen, "");
  DaemonConfig shipped = default_daemon_config();
  load_daemon_config(std::string(CW_SOURCE_DIR) + "/deploy/conceptwatchd.toml", &shipped);
  EXPECT_EQ(shipped.http_listen, "127.0.0.1:7783");
}

TEST(HttpConfig, AnUnknownKeyIsRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.sub("http.toml");
  std::ofstream(path) << "[http]\nlisten_address = \"127.0.0.1:7783\"\n";
  DaemonConfig config = default_daemon_config();
  try {
    load_daemon_config(path, &config);
    FAIL() << "a misspelt [http] key was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[http] has no key 'listen_address' (listen)"), std::string::npos) << e.what();
  }
}

// Addresses are checked when the file is read (observe/host_port.h), not
// when the port is opened: the error names the file and the key.
TEST(HttpConfig, AddressesThatAreNotHostPortAreRefusedWhenTheFileIsRead) {
  testing::TempDir dir;
  const struct {
    const char* toml;
    const char* expected;
  } cases[] = {
      {"[http]\nlisten = \"7783\"\n", "[http] listen \"7783\": no host:port"},
      {"[http]\nlisten = \"127.0.0.1:0\"\n", "[http] listen \"127.0.0.1:0\": the port is outside 1-65535"},
      {"[analysis]\ntrainer_listen = \"::1:29500\"\n",
       "[analysis] trainer_listen \"::1:29500\": an IPv6 host needs brackets"},
  };
  for (const auto& c : cases) {
    const std::string path = dir.sub("addresses.toml");
    std::ofstream(path) << c.toml;
    DaemonConfig config = default_daemon_config();
    try {
      load_daemon_config(path, &config);
      ADD_FAILURE() << c.toml << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("config " + path + ": " + c.expected), std::string::npos) << e.what();
    }
  }
  // Port 0 is "any free port" where the ranks meet (the default), and [::1] is IPv6.
  const std::string path = dir.sub("addresses.toml");
  std::ofstream(path) << "[http]\nlisten = \"[::1]:7783\"\n[analysis]\ntrainer_listen = \"127.0.0.1:0\"\n";
  DaemonConfig config = default_daemon_config();
  load_daemon_config(path, &config);
  EXPECT_EQ(config.http_listen, "[::1]:7783");
}

}  // namespace
}  // namespace cw
