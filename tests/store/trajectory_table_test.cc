// The trajectory family: records round-trip, and a corrupt format 1 record
// (what a store written before format 2 holds until it is migrated) is
// refused before its counts are believed.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "store/analysis_tables.h"
#include "store/trajectory_record.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

TEST(TrajectoryTable, RoundTrips) {
  TempDir dir;
  auto store = Store::open(dir.path());
  FeatureTrajectory feature;
  feature.feature = 7;
  feature.points = {{100, 0.5f, 1.0f, 0.25f}, {200, 0.75f, 1.0f, 0.5f}};
  feature.top_contexts = {{3, 2.5f}};
  TrajectoryTable(*store).put("run", "tap", {feature});
  const auto read = TrajectoryTable(*store).get("run", "tap", 7);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->points.size(), 2u);
  EXPECT_EQ(read->points[1].step, 200u);
  EXPECT_EQ(read->points[1].frequency, 0.5f);
  ASSERT_EQ(read->top_contexts.size(), 1u);
  EXPECT_EQ(read->top_contexts[0].token_index, 3u);
}

// fuzz/record_fuzzer.cc's input: two points, then a context count of
// 0x3fc00000. The decoder resized to it first and asked for 8.5 GB (a point
// count near 2^31 asked for 100 GB); now counts are checked against the bytes.
TEST(TrajectoryTable, ACorruptCountIsRefusedWithoutAllocatingIt) {
  const std::string value(
      "\x02\x00\x00\x80\x30\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x3f\x00\x00\x40\x3f"
      "\xcd\xcc\x4c\x3e\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\xcd\xcc\x4c\x00\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x80\x3f\xcd\xcc\x4c\x3e\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x00"
      "\x02\x00\x00\x00\x01\x00\x00\x00\x00\x00\xc0\x3f\x02\x00\x00\x00\x00\x00\x00\x3f",
      116);
  EXPECT_THROW(decode_trajectory_record(7, value, 1), std::runtime_error);
}

}  // namespace
}  // namespace cw
