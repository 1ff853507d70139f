// The daemon's TOML configuration (daemon/daemon_config.h): any bytes as
// conceptwatchd.toml, written to a file and read over the defaults, as
// `conceptwatchd --config` does (the [alerts] part is read again from the
// same file by alerts/alerts_config.h). Contract: a bad file throws
// std::runtime_error naming the file, and nothing worse.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "daemon/daemon_config.h"
#include "tests/support/temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static cw::testing::TempDir dir;
  static const std::string path = dir.sub("conceptwatchd.toml");
  {
    // A new file each time: ext4 flushes a file truncated and rewritten on
    // close, which held the fuzzer to 770 inputs a second.
    std::remove(path.c_str());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  cw::DaemonConfig config = cw::default_daemon_config();
  try {
    cw::load_daemon_config(path, &config);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
