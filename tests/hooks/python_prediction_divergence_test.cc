// The Python hook's kl_unigram / kl_bigram scalars: stored by the daemon
// with the snapshot, equal to an independent numpy computation, and equal
// to what the C++ implementation (hooks/prediction_divergence.h) computes
// from the same probe tokens and logits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "hooks/prediction_divergence.h"
#include "store/snapshot_table.h"
#include "tests/hooks/python_script.h"
#include "tests/support/daemon_process.h"


namespace cw {
namespace {

template <typename T>
std::vector<T> read_array(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

TEST(PythonHook, SendsThePredictionDivergenceOfItsProbe) {
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();
  const std::string out = daemon.scratch().path();
  const std::string command =
      testing::python_script("python_prediction_divergence.py") + daemon.ingest_endpoint() + " kl-run 5 " + out;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();

  nlohmann::json expected;
  std::ifstream(out + "/expected.json") >> expected;
  const double kl_unigram = expected["kl_unigram"], kl_bigram = expected["kl_bigram"];
  EXPECT_GT(kl_unigram, 0.0);
  EXPECT_GT(kl_bigram, 0.0);

  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  const auto snapshots = SnapshotTable(*store).list("kl-run");
  ASSERT_EQ(snapshots.size(), 1u);
  std::map<std::string, double> scalars(snapshots[0].scalars.begin(), snapshots[0].scalars.end());
  ASSERT_TRUE(scalars.count("kl_unigram") && scalars.count("kl_bigram"));
  EXPECT_NEAR(scalars["kl_unigram"], kl_unigram, 1e-9);
  EXPECT_NEAR(scalars["kl_bigram"], kl_bigram, 1e-9);
  EXPECT_EQ(scalars["loss"], 2.0);

  // The C++ implementation on the same tokens and logits.
  const auto tokens = read_array<uint32_t>(out + "/tokens.u32");
  const auto logits = read_array<float>(out + "/logits.f32");
  const int64_t V = expected["vocab_size"];
  ASSERT_EQ(logits.size(), tokens.size() * std::size_t(V));
  const auto cpp = NgramReference(tokens, expected["sequence_length"].get<int64_t>(), V).divergence(logits.data());
  EXPECT_NEAR(cpp.kl_unigram, kl_unigram, 1e-9);
  EXPECT_NEAR(cpp.kl_bigram, kl_bigram, 1e-9);
}

}  // namespace
}  // namespace cw
