// The daemon's listening policy (auth/auth_config.h) on each side of its
// lines: which endpoints count as loopback, and which settings start.
#include "auth/auth_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/daemon_keys.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

TEST(AuthConfig, OnlyLoopbackAndLocalSocketsCountAsLoopback) {
  for (const char* local : {"tcp://127.0.0.1:7781", "tcp://127.3.2.1:1", "tcp://localhost:7781", "tcp://[::1]:7781",
                            "ipc:///run/conceptwatch/ingest", "inproc://x"})
    EXPECT_TRUE(is_loopback_endpoint(local)) << local;
  for (const char* open : {"tcp://0.0.0.0:7781", "tcp://*:7781", "tcp://10.0.0.5:7781", "tcp://eth0:7781",
                           "tcp://127.evil.example:7781", "tcp://127.1:7781", "tcp://[::]:7781", "ws://127.0.0.1:1"})
    EXPECT_FALSE(is_loopback_endpoint(open)) << open;
}

TEST(AuthConfig, BeyondLoopbackNeedsKeysOrTheOptOut) {
  const std::vector<std::string> open = {"tcp://0.0.0.0:7781", "tcp://127.0.0.1:7782"};
  AuthConfig none;
  EXPECT_NO_THROW(check_auth_config(none, {"tcp://127.0.0.1:7781", "tcp://127.0.0.1:7782"}));
  try {
    check_auth_config(none, open);
    ADD_FAILURE() << "an open endpoint without keys was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("refusing to listen on tcp://0.0.0.0:7781 without authentication"),
              std::string::npos) << e.what();
  }
  AuthConfig opted_out;
  opted_out.allow_unauthenticated = true;
  EXPECT_NO_THROW(check_auth_config(opted_out, open));

  testing::TempDir dir;
  testing::DaemonKeys keys(dir.sub("keys"));
  AuthConfig curve;
  curve.secret_key = dir.sub("keys/server.secret");
  curve.ingest_keys = dir.sub("keys/ingest.d");
  curve.query_keys = dir.sub("keys/query.d");
  EXPECT_NO_THROW(check_auth_config(curve, open));
  AuthConfig half = curve;
  half.query_keys.clear();
  EXPECT_THROW(check_auth_config(half, open), std::runtime_error);
  std::filesystem::permissions(curve.query_keys, std::filesystem::perms::others_write, std::filesystem::perm_options::add);
  EXPECT_THROW(check_auth_config(curve, open), std::runtime_error);  // anyone could add a key
  std::filesystem::permissions(curve.query_keys, std::filesystem::perms::others_write, std::filesystem::perm_options::remove);
  AuthConfig public_as_secret = curve;
  public_as_secret.secret_key = dir.sub("keys/server.pub");  // 0644: others may read it
  EXPECT_THROW(check_auth_config(public_as_secret, open), std::runtime_error);
}

}  // namespace
}  // namespace cw
