// conceptwatch.connect and conceptwatch.load_crosscoder (the Python query
// client) against the real daemon and CLI processes: a planted run streamed
// through conceptwatchd, then python_client_check.py compares every answer
// with `conceptwatch --json` and the exported crosscoder's encode/decode
// with the daemon's own statistics of its forward pass on the probe set.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"
#include "tests/hooks/python_script.h"
#include "tests/support/daemon_process.h"

#ifndef CW_CLI_PATH
#error "CW_CLI_PATH must name the conceptwatch binary"
#endif

namespace cw {
namespace {

using testing::DaemonProcess;

TEST(PythonClient, AnswersAsTheCliAndTheExportReconstructsAsTheDaemon) {
  // Small enough to train in well under a second per update.
  testing::TempDir dir;
  const std::string config =
      testing::write_crosscoder_config(dir, "n_features = 32\nsteps_per_update = 40\nbatch_size = 128\nthreads = 1\n");
  DaemonProcess daemon({"--config", config});
  daemon.start();
  PlantedOptions options = recovery_fixture();
  options.n_snapshots = 4;
  options.n_tokens = 512;
  options.mass_emergence_snapshot = 2;  // features that appear while the script follows the events
  const PlantedDictionary planted = make_planted_dictionary(options);
  const std::string run = "planted", activations = dir.sub("activations.f32"), done = dir.sub("done");
  {
    std::ofstream out(activations, std::ios::binary);  // [T, N, d]: what the script reconstructs
    for (const auto& a : planted.activations) out.write(reinterpret_cast<const char*>(a.data()), a.size() * 4);
  }
  for (int64_t t = 0; t < 2; ++t) {
    testing::publish_planted_snapshot(daemon, run, planted, t);
    testing::wait_for_crosscoder(daemon, run, t + 1, std::chrono::seconds(30));
  }

  const std::string command = testing::python_script("python_client_check.py") + daemon.query_endpoint() + " " +
                              daemon.data_dir() + " " + CW_CLI_PATH + " " + run + " " + activations + " " + done +
                              " " + dir.path() + " 2>&1";
  FILE* script = popen(command.c_str(), "r");
  ASSERT_NE(script, nullptr) << command;
  std::string output;
  char line[4096];
  // The script follows the events from here on; the rest of the stream
  // comes while it does.
  while (output.find("following") == std::string::npos && std::fgets(line, sizeof line, script)) output += line;
  for (int64_t t = 2; t < options.n_snapshots; ++t) {
    testing::publish_planted_snapshot(daemon, run, planted, t);
    testing::wait_for_crosscoder(daemon, run, t + 1, std::chrono::seconds(30));
  }
  std::ofstream(done) << "streamed\n";
  while (std::fgets(line, sizeof line, script)) output += line;
  const int status = pclose(script);
  EXPECT_EQ(status, 0) << command << "\n" << output << "\n" << daemon.log();
  std::printf("%s", output.c_str());  // the measured differences, for the log
}

}  // namespace
}  // namespace cw
