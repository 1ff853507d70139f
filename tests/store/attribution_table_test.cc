// The attribution family: records round-trip, tasks are listed per (run,
// tap), and a store written before the family existed still opens read-only.
#include "store/attribution_record.h"
#include "store/attribution_table.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cmath>
#include <memory>

#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

AttributionRecord record(uint32_t features, std::vector<uint64_t> steps) {
  AttributionRecord r;
  r.steps = std::move(steps);
  r.n_features = features;
  for (std::size_t t = 0; t < r.steps.size(); ++t) {
    r.metric.push_back(t == 0 ? NAN : 0.5 * double(t));
    r.linear_total.push_back(0.25 * double(t) - 1);
  }
  for (std::size_t i = 0; i < r.steps.size() * features; ++i) r.values.push_back(float(i) - 3.25f);
  r.computed_unix_ms = 1234;
  return r;
}

TEST(AttributionTable, RoundTripsAndListsTasksPerTap) {
  TempDir dir;
  auto store = Store::open(dir.path());
  AttributionTable table(*store);
  const auto written = record(5, {0, 20, 400});
  table.put("run", "tap", "induction", written);
  table.put("run", "tap", "ioi", record(5, {0}));
  table.put("run", "other", "induction", record(2, {0}));
  table.put("run2", "tap", "x", record(2, {0}));
  const auto read = table.get("run", "tap", "induction");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->steps, written.steps);
  EXPECT_EQ(read->n_features, 5u);
  EXPECT_EQ(read->values, written.values);
  EXPECT_TRUE(std::isnan(read->metric[0]));
  EXPECT_EQ(read->metric[2], 1.0);
  EXPECT_EQ(read->linear_total, written.linear_total);
  EXPECT_EQ(read->computed_unix_ms, 1234u);
  EXPECT_FALSE(table.get("run", "tap", "missing"));
  EXPECT_EQ(table.tasks("run", "tap"), (std::vector<std::string>{"induction", "ioi"}));
  EXPECT_EQ(table.tasks("run", "other"), (std::vector<std::string>{"induction"}));
  AttributionRecord bad = written;
  bad.values.pop_back();
  EXPECT_THROW(table.put("run", "tap", "bad", bad), std::invalid_argument);
  bad = written;
  bad.linear_total.pop_back();
  EXPECT_THROW(table.put("run", "tap", "bad", bad), std::invalid_argument);
}

TEST(AttributionTable, StoreWithoutTheFamilyOpensReadOnlyAndReadsEmpty) {
  TempDir dir;
  {
    // The store as it was before the attribution family: every other family.
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{{rocksdb::kDefaultColumnFamilyName, {}}};
    for (int i = 0; i < int(Family::kCount); ++i)
      if (Family(i) != Family::kAttribution) families.push_back({family_name(Family(i)), {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1 + int(Family::kRuns)], "r", "1").ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  }
  {
    auto store = Store::open(dir.path(), StoreOptions{true, true});
    std::string value;
    EXPECT_TRUE(store->get(Family::kRuns, "r", &value));
    EXPECT_EQ(value, "1");
    EXPECT_FALSE(AttributionTable(*store).get("run", "tap", "task"));
    EXPECT_TRUE(AttributionTable(*store).tasks("run", "tap").empty());
  }
  // The daemon's read-write open adds the family.
  Store::open(dir.path())->put(Family::kAttribution, "k", "v");
  auto store = Store::open(dir.path(), StoreOptions{true, true});
  std::string value;
  EXPECT_TRUE(store->get(Family::kAttribution, "k", &value));
}

// fuzz/record_fuzzer.cc's input (fuzz/regressions/record/): a format 1
// record without values was read with memcpy into a null data(), undefined
// behaviour that UBSan reports; it reads back empty.
TEST(AttributionTable, AFormat1RecordWithoutValuesReadsEmpty) {
  std::string bytes;
  for (uint32_t word : {0u, 3u, 0u, 0u}) bytes.append(reinterpret_cast<const char*>(&word), sizeof word);  // T, F, u64 ms
  const AttributionRecord read = decode_attribution_record(bytes, 1);
  EXPECT_EQ(read.n_features, 3u);
  EXPECT_TRUE(read.steps.empty());
  EXPECT_TRUE(read.values.empty());
}

}  // namespace
}  // namespace cw
