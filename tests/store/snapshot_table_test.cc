#include "store/snapshot_table.h"

#include <gtest/gtest.h>

#include "schema/checksum.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::TempDir;

class SnapshotTableTest : public ::testing::Test {
 protected:
  SnapshotTableTest() : store_(Store::open(dir_.path())), table_(*store_) {}

  // Stores an array for (run, tap, step) and returns its bytes.
  std::string put(const std::string& run, const std::string& tap, uint64_t step,
                  ArrayKind kind = ArrayKind::kProbeActivations, const std::string& task = "") {
    const auto values = testing::random_activations(testing::array_seed(run + tap + task, step), 16 * 8);
    SnapshotMeta meta;
    meta.key = {run, tap, step, kind, task};
    meta.tokens_seen = step * 100;
    meta.scalars = {{"loss", 2.5}, {"lr", 1e-4}};
    meta.n_tokens = 16;
    meta.d_model = 8;
    meta.dtype = DType::kF32;
    meta.checksum = checksum64(values.data(), values.size() * 4);
    meta.received_unix_ms = 42;
    const std::string bytes = testing::as_bytes(values);
    table_.put(meta, bytes);
    return bytes;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  SnapshotTable table_;
};

TEST_F(SnapshotTableTest, PutThenMetaAndReadGiveBackWhatWasStored) {
  const std::string bytes = put("r", "tap", 17);
  const SnapshotKey key{"r", "tap", 17, ArrayKind::kProbeActivations, ""};
  auto meta = table_.meta(key);
  ASSERT_TRUE(meta.has_value());
  EXPECT_TRUE(meta->key == key);
  EXPECT_EQ(meta->tokens_seen, 1700u);
  ASSERT_EQ(meta->scalars.size(), 2u);
  EXPECT_EQ(meta->scalars[0].first, "loss");
  EXPECT_EQ(meta->scalars[0].second, 2.5);
  EXPECT_EQ(meta->scalars[1].second, 1e-4);
  EXPECT_EQ(meta->n_tokens, 16u);
  EXPECT_EQ(meta->d_model, 8u);
  EXPECT_EQ(meta->dtype, DType::kF32);
  EXPECT_EQ(meta->received_unix_ms, 42u);
  EXPECT_EQ(meta->bytes(), bytes.size());
  std::string data;
  ASSERT_TRUE(table_.read(key, &data));
  EXPECT_EQ(data, bytes);
  EXPECT_EQ(checksum64(data.data(), data.size()), meta->checksum);

  SnapshotKey other = key;
  other.step = 18;
  EXPECT_FALSE(table_.meta(other).has_value());
  EXPECT_FALSE(table_.read(other, &data));
}

TEST_F(SnapshotTableTest, ListsStepsInNumericOrderBecauseStepsAreBigEndian) {
  // Little-endian or decimal keys would order 256 before 2 and 65536 before 3.
  for (uint64_t step : {65536u, 3u, 256u, 2u, 0u, 1000u}) put("r", "tap", step);
  std::vector<uint64_t> steps;
  for (const auto& meta : table_.list("r", "tap")) steps.push_back(meta.key.step);
  EXPECT_EQ(steps, (std::vector<uint64_t>{0, 2, 3, 256, 1000, 65536}));
  EXPECT_LT(snapshot_key({"r", "tap", 255, ArrayKind::kProbeActivations, ""}),
            snapshot_key({"r", "tap", 256, ArrayKind::kProbeActivations, ""}));
  const std::string key = snapshot_key({"r", "tap", 0x0102, ArrayKind::kProbeActivations, ""});
  EXPECT_EQ(key.substr(key.size() - 8), std::string("\0\0\0\0\0\0\x01\x02", 8));
}

TEST_F(SnapshotTableTest, ListFiltersByRunTapAndKind) {
  put("r", "a", 1);
  put("r", "b", 1);
  put("r", "a", 2);
  put("r", "a", 2, ArrayKind::kTaskGradient, "ioi");
  put("r-other", "a", 1);  // a run whose name extends "r"
  put("q", "a", 1);

  const auto all_taps = table_.list("r");
  ASSERT_EQ(all_taps.size(), 3u);
  EXPECT_EQ(all_taps[0].key.tap, "a");
  EXPECT_EQ(all_taps[0].key.step, 1u);
  EXPECT_EQ(all_taps[1].key.tap, "a");
  EXPECT_EQ(all_taps[1].key.step, 2u);
  EXPECT_EQ(all_taps[2].key.tap, "b");
  for (const auto& meta : all_taps) EXPECT_EQ(meta.key.run, "r");

  EXPECT_EQ(table_.list("r", "b").size(), 1u);
  EXPECT_EQ(table_.list("r", "missing").size(), 0u);
  EXPECT_EQ(table_.list("nobody").size(), 0u);

  const auto everything = table_.list_all("r");
  ASSERT_EQ(everything.size(), 4u);
  int task_arrays = 0;
  for (const auto& meta : everything) {
    if (meta.key.kind == ArrayKind::kTaskGradient) {
      ++task_arrays;
      EXPECT_EQ(meta.key.task, "ioi");
    }
  }
  EXPECT_EQ(task_arrays, 1);
}

TEST_F(SnapshotTableTest, ATaskArrayAndTheProbeArrayOfOneStepAreDistinct) {
  const std::string probe = put("r", "a", 5);
  const std::string gradient = put("r", "a", 5, ArrayKind::kTaskGradient, "ioi");
  const std::string activations = put("r", "a", 5, ArrayKind::kTaskActivations, "ioi");
  std::string data;
  ASSERT_TRUE(table_.read({"r", "a", 5, ArrayKind::kProbeActivations, ""}, &data));
  EXPECT_EQ(data, probe);
  ASSERT_TRUE(table_.read({"r", "a", 5, ArrayKind::kTaskGradient, "ioi"}, &data));
  EXPECT_EQ(data, gradient);
  ASSERT_TRUE(table_.read({"r", "a", 5, ArrayKind::kTaskActivations, "ioi"}, &data));
  EXPECT_EQ(data, activations);
  EXPECT_NE(probe, gradient);
}

}  // namespace
}  // namespace cw
