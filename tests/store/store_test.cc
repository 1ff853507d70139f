#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "store/key_encoding.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

TEST(Store, ReadOnlyOpenOfAMissingDirectorySaysWhatToDo) {
  TempDir dir;
  const std::string missing = dir.sub("nothing-here");
  try {
    Store::open(missing, StoreOptions{true, true});
    FAIL() << "opened a store that does not exist";
  } catch (const StoreError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no conceptwatch store in '" + missing + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("--data-dir"), std::string::npos) << message;
  }
}

TEST(Store, PutGetAndReopenKeepsValues) {
  TempDir dir;
  {
    auto store = Store::open(dir.path());
    store->put(Family::kRuns, "a", "1");
    StoreBatch batch;
    batch.put(Family::kEvents, "e1", "x");
    batch.put(Family::kEvents, "e2", "y");
    batch.erase(Family::kRuns, "a");
    batch.put(Family::kRuns, "b", std::string("\0two", 4));
    store->write(batch);
  }
  auto store = Store::open(dir.path(), StoreOptions{true, true});
  EXPECT_TRUE(store->read_only());
  std::string value;
  EXPECT_FALSE(store->get(Family::kRuns, "a", &value));
  ASSERT_TRUE(store->get(Family::kRuns, "b", &value));
  EXPECT_EQ(value, std::string("\0two", 4));
  ASSERT_TRUE(store->get(Family::kEvents, "e2", &value));
  EXPECT_EQ(value, "y");
  // Families are separate key spaces.
  EXPECT_FALSE(store->get(Family::kProbes, "b", &value));
}

TEST(Store, ReadOnlyOpenWorksWhileAWriterHoldsTheStore) {
  TempDir dir;
  auto writer = Store::open(dir.path());
  writer->put(Family::kMetrics, "k", "v");
  auto reader = Store::open(dir.path(), StoreOptions{true, true});
  std::string value;
  ASSERT_TRUE(reader->get(Family::kMetrics, "k", &value));
  EXPECT_EQ(value, "v");
  // A second writer is refused with a hint about the daemon.
  try {
    Store::open(dir.path());
    FAIL() << "two writers opened one store";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("lock"), std::string::npos) << e.what();
  }
}

TEST(Store, ScanVisitsAPrefixInKeyOrderAndStopsWhenAsked) {
  TempDir dir;
  auto store = Store::open(dir.path());
  for (uint64_t step : {300u, 2u, 70000u, 1u, 256u}) {
    store->put(Family::kMetrics, KeyBuilder().text("run").u64(step).str(), std::to_string(step));
  }
  store->put(Family::kMetrics, KeyBuilder().text("run2").u64(0).str(), "other run");
  std::vector<std::string> seen;
  store->scan(Family::kMetrics, KeyBuilder().text("run").str(), [&](std::string_view, std::string_view value) {
    seen.emplace_back(value);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "256", "300", "70000"}));
  seen.clear();
  store->scan(Family::kMetrics, "", [&](std::string_view, std::string_view value) {
    seen.emplace_back(value);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen.size(), 2u);
}

// A compaction asked to stop (conceptwatchd shutting down while it gives a
// deleted run's space back) returns without an error and leaves the store
// writable (RocksDB answers it "incomplete", which is no write failure); a
// later compaction of the same range runs as usual.
TEST(Store, ACanceledCompactionStopsWithoutAnError) {
  TempDir dir;
  auto store = Store::open(dir.path());
  const std::string value(1 << 20, 'x');
  for (int i = 0; i < 16; ++i) store->put(Family::kSnapshotData, "gone/" + std::to_string(i), value);
  StoreBatch batch;
  batch.erase_prefix(Family::kSnapshotData, "gone/");
  store->write(batch);
  std::atomic<bool> canceled{true};
  EXPECT_NO_THROW(store->compact(Family::kSnapshotData, "gone/", &canceled));
  EXPECT_TRUE(store->write_state().writable);
  canceled = false;
  EXPECT_NO_THROW(store->compact(Family::kSnapshotData, "gone/", &canceled));
  EXPECT_TRUE(store->write_state().writable);
  store->put(Family::kRuns, "after", "1");
  std::string read;
  EXPECT_TRUE(store->get(Family::kRuns, "after", &read));
  EXPECT_FALSE(store->get(Family::kSnapshotData, "gone/3", &read));
}

TEST(KeyEncoding, IntegersAreBigEndianSoBytesSortLikeNumbers) {
  EXPECT_EQ(KeyBuilder().u64(0x0102030405060708ull).str(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(KeyBuilder().u32(258).str(), std::string("\x00\x00\x01\x02", 4));
  const std::vector<uint64_t> steps = {0, 1, 255, 256, 65535, 65536, 1ull << 32, ~0ull};
  for (std::size_t i = 1; i < steps.size(); ++i) {
    EXPECT_LT(KeyBuilder().text("r").u64(steps[i - 1]).str(), KeyBuilder().text("r").u64(steps[i]).str())
        << steps[i - 1] << " vs " << steps[i];
  }
  const std::string key = KeyBuilder().text("run").text("tap").u8(2).u32(7).u64(1ull << 40).str();
  KeyReader reader(key);
  EXPECT_EQ(reader.text(), "run");
  EXPECT_EQ(reader.text(), "tap");
  EXPECT_EQ(reader.u8(), 2);
  EXPECT_EQ(reader.u32(), 7u);
  EXPECT_EQ(reader.u64(), 1ull << 40);
  EXPECT_THROW(reader.u8(), std::runtime_error);
  const std::string no_terminator = "abc";
  KeyReader unterminated(no_terminator);
  EXPECT_THROW(unterminated.text(), std::runtime_error);
}

}  // namespace
}  // namespace cw
