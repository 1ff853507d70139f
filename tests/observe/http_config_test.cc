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

}  // namespace
}  // namespace cw
