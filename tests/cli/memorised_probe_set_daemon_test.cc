// A probe set the crosscoder memorises, through the real daemon and the CLI
// process: snapshots of pure noise, 1,024 tokens of width 48 (21 per
// dimension, under the 32 the daemon warns below). The crosscoder fits the
// rows it trains on and not the rows it holds out, and `conceptwatch
// crosscoder` says so. The other side (a planted stream with 128 tokens per
// dimension, not memorised) is PlantedScience.DefaultConfigOnAMixedStream.
#include <gtest/gtest.h>

#include <cstdio>

#include "hooks/publisher.h"
#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

TEST(MemorisedProbeSet, NoiseOnFewTokensIsReportedMemorised) {
  testing::TempDir dir;
  testing::DaemonProcess daemon({"--config", testing::write_crosscoder_config(
                                                 dir, "n_features = 256\nbatch_size = 256\nsteps_per_update = 2000\nthreads = 1\n")});
  daemon.start();
  const RunDescription run = testing::make_run("noise", {"resid"}, 48, 1024);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  {
    Publisher publisher(run, options);
    for (uint64_t step : {0, 10}) {
      const auto data = testing::random_activations(testing::array_seed("resid", step), 1024 * 48);
      ASSERT_TRUE(publisher.publish(testing::probe_meta(run, "resid", step, data), data.data()));
    }
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(30))) << publisher.stats().last_error;
  }
  testing::wait_for_crosscoder(daemon, "noise", 2, std::chrono::seconds(120));

  const auto newest = daemon.query("crosscoder", {{"run", "noise"}})["snapshots"].back();
  ASSERT_TRUE(newest.contains("held_out_rows")) << newest.dump();
  EXPECT_GE(newest["held_out_rows"].get<int64_t>(), 16);
  EXPECT_GT(newest["explained_variance"].get<double>() - newest["held_out_explained_variance"].get<double>(), 0.1)
      << newest.dump();
  EXPECT_TRUE(newest["memorised"].get<bool>()) << newest.dump();
  const std::string text = testing::cli_output(daemon, "crosscoder --run noise");
  std::printf("%s", text.c_str());
  EXPECT_NE(text.find("held out: "), std::string::npos) << text;
  EXPECT_NE(text.find("MEMORISED"), std::string::npos) << text;
  EXPECT_NE(text.find("HELD_EV"), std::string::npos) << text;
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_NE(daemon.log().find("under 32 per dimension of d_model 48"), std::string::npos) << daemon.log();
  EXPECT_NE(daemon.log().find("memorising the probe set"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace cw
