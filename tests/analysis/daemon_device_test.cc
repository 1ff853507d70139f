// conceptwatchd's --device and [crosscoder] device: "cpu" by default, and
// "cuda" refused at start-up (before any snapshot arrives) where LibTorch
// has no CUDA or sees no GPU, with a message that names what is missing.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "tests/support/daemon_process.h"

namespace cw {
namespace {

using testing::DaemonProcess;

// The start-up error of a daemon started with `args`, or "" if it started.
std::string startup_error(const std::vector<std::string>& args) {
  DaemonProcess daemon(args);
  try {
    daemon.start();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(DaemonDevice, CpuByDefault) {
  DaemonProcess daemon;
  daemon.start();
  EXPECT_EQ(daemon.terminate(), 0);
}

TEST(DaemonDevice, CudaWithoutItIsRefusedAtStartUpNamingWhatIsMissing) {
  const std::string flag = startup_error({"--device", "cuda"});
  if (flag.empty()) GTEST_SKIP() << "this build trains on CUDA";
  // Debian's libtorch is CPU-only: that is what the message must say.
  EXPECT_TRUE(flag.find("needs a CUDA build of LibTorch") != std::string::npos ||
              flag.find("sees no GPU") != std::string::npos)
      << flag;
  EXPECT_NE(flag.find("--device cpu"), std::string::npos) << flag;

  testing::TempDir dir;
  const std::string config = dir.sub("cuda.toml");
  std::ofstream(config) << "[crosscoder]\ndevice = \"cuda:0\"\n";
  const std::string file = startup_error({"--config", config});
  EXPECT_NE(file.find("cuda:0"), std::string::npos) << file;
  // --store-only trains nothing, so it needs no device.
  DaemonProcess store_only({"--config", config, "--store-only"});
  store_only.start();
  EXPECT_EQ(store_only.terminate(), 0);
}

TEST(DaemonDevice, UnknownDeviceIsRefused) {
  const std::string error = startup_error({"--device", "tpu"});
  EXPECT_NE(error.find("not one of cpu, cuda, cuda:N"), std::string::npos) << error;
}

}  // namespace
}  // namespace cw
