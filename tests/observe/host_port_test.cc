// observe/host_port.h: the one "host:port" parser of [http] listen,
// [analysis] trainer_listen and conceptwatch-trainer --store.
#include "observe/host_port.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace cw {
namespace {

TEST(HostPort, SplitsNamesAddressesAndBracketedIPv6) {
  const HostPort v4 = split_host_port("127.0.0.1:7783", "[http] listen", false);
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 7783);
  EXPECT_EQ(split_host_port("localhost:1", "[http] listen", false).host, "localhost");
  const HostPort v6 = split_host_port("[::1]:65535", "[http] listen", false);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 65535);
}

TEST(HostPort, PortZeroOnlyWhereAnyFreePortIsMeant) {
  EXPECT_EQ(split_host_port("127.0.0.1:0", "[analysis] trainer_listen", true).port, 0);
  EXPECT_THROW(split_host_port("127.0.0.1:0", "--store", false), std::runtime_error);
}

// Each refusal names the setting, the value and what is wrong with it.
TEST(HostPort, RefusesWhatIsNotHostPortNamingTheSetting) {
  const struct {
    const char* address;
    const char* why;
  } cases[] = {
      {"7783", "no host:port"},
      {":7783", "no host:port"},
      {"127.0.0.1:", "the port is not a number"},
      {"127.0.0.1:77a", "the port is not a number"},
      {"127.0.0.1:123456", "the port is not a number"},
      {"127.0.0.1:65536", "outside"},
      {"[::1:7783", "unclosed ["},
      {"[]:7783", "an empty host"},
      {"::1:7783", "an IPv6 host needs brackets"},
  };
  for (const auto& c : cases) {
    try {
      split_host_port(c.address, "[analysis] trainer_listen", true);
      ADD_FAILURE() << c.address << " was accepted";
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string("[analysis] trainer_listen \"") + c.address + "\""), std::string::npos)
          << message;
      EXPECT_NE(message.find(c.why), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace cw
