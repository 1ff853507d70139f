// The metrics family: per-snapshot records round-trip, and records written
// before the fractions had their own keys read with them.
#include <gtest/gtest.h>

#include "store/analysis_tables.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

TEST(MetricsTable, RecordsWithTheOldFractionKeysAlsoReadUnderTheNewOnes) {
  TempDir dir;
  auto store = Store::open(dir.path());
  MetricsTable table(*store);
  table.put("run", "tap",
            {{100, {{"l0", 3.5}, {"dead_features", 0.25}, {"dense_features", 0.125}}},
             {200, {{"l0", 4.0}, {"dead_fraction", 0.5}, {"dense_fraction", 0.0}, {"dead_features", 0.5},
                    {"dense_features", 0.0}}}});
  const auto records = table.list("run", "tap");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].first, 100u);
  EXPECT_EQ(records[0].second["dead_fraction"], 0.25);
  EXPECT_EQ(records[0].second["dense_fraction"], 0.125);
  EXPECT_EQ(records[0].second["dead_features"], 0.25);  // the old key stays
  EXPECT_EQ(records[0].second["l0"], 3.5);
  EXPECT_EQ(records[1].first, 200u);
  EXPECT_EQ(records[1].second["dead_fraction"], 0.5);
  EXPECT_EQ(records[1].second["dense_fraction"], 0.0);
  EXPECT_TRUE(table.list("run", "other").empty());
}

}  // namespace
}  // namespace cw
