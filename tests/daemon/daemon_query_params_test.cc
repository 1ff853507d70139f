// Numeric query parameters over the real query socket: a JSON number that
// is not an integer of the parameter's type (1e300, -1.5e300, 2.5, -1 for a
// sequence number) is refused naming the parameter. nlohmann's get<T>()
// converted such numbers with a cast that is undefined behaviour; UBSan in
// fuzz/query_fuzzer.cc reported it (fuzz/regressions/query/).
#include <gtest/gtest.h>

#include <string>

#include "tests/support/daemon_process.h"

namespace cw {
namespace {

TEST(DaemonQueryParams, ANumberThatIsNoIntegerIsRefusedNamingTheParameter) {
  testing::DaemonProcess daemon;
  daemon.start();
  for (const char* value : {"1e300", "-1.5e300", "2.5", "-1", "18446744073709551616"}) {
    try {
      daemon.query("events", {{"after", nlohmann::json::parse(value)}});
      FAIL() << "after = " << value << " was accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("parameter 'after' must be an integer from 0 to 18446744073709551615"),
                std::string::npos)
          << value << ": " << e.what();
    }
  }
  EXPECT_EQ(daemon.query("events", {{"after", 0}}), nlohmann::json::array());
  EXPECT_EQ(daemon.query("events", {{"after", nullptr}}), nlohmann::json::array());
  EXPECT_TRUE(daemon.query("status").contains("runs"));
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
