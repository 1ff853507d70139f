// "status" through the real conceptwatchd reports what the process runs:
// --store-only turns the crosscoders off, and "analysis" says so even in a
// build that has them.
#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"

namespace cw {
namespace {

using testing::DaemonProcess;

TEST(DaemonStatus, AnalysisIsFalseUnderStoreOnly) {
  DaemonProcess daemon({"--store-only"});
  daemon.start();
  const auto status = daemon.query("status");
  EXPECT_FALSE(status["daemon"]["analysis"].get<bool>()) << status.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

TEST(DaemonStatus, AnalysisIsTrueWhenTheCrosscoderIsBuiltAndOn) {
  DaemonProcess daemon;
  daemon.start();
  const auto status = daemon.query("status");
  EXPECT_EQ(status["daemon"]["analysis"].get<bool>(), bool(CW_DAEMON_HAS_ANALYSIS)) << status.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
