// The crosscoder family: a state longer than a part is stored in parts and
// read back whole; a smaller state replacing it leaves no part behind; the
// listing names each (run, tap) once; a missing part is an error naming it.
// The parts here are a few hundred bytes; at the default (1 GiB) a state of
// 4 GiB or more, which RocksDB refuses as one value, is stored the same way
// (the DISABLED_ test below, run by hand: it needs ~20 GB of memory).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "store/analysis_tables.h"
#include "store/key_encoding.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

std::string pattern(std::size_t bytes, char seed) {
  std::string out(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>(seed + i * 7 + (i >> 9));
  return out;
}

std::size_t keys_under(const Store& store, const std::string& prefix) {
  std::size_t keys = 0;
  store.scan(Family::kCrosscoder, prefix, [&](std::string_view, std::string_view) { return ++keys, true; });
  return keys;
}

TEST(CrosscoderStateTable, AStateLongerThanAPartIsStoredInPartsAndReadBackWhole) {
  TempDir dir;
  auto store = Store::open(dir.path());
  CrosscoderStateTable table(*store, 256);
  const std::string tap = KeyBuilder().text("run").text("resid").str();

  const std::string big = pattern(1000, 'a');  // 4 parts, the last of 232 bytes
  table.put("run", "resid", big);
  EXPECT_EQ(table.get("run", "resid"), big);
  EXPECT_EQ(keys_under(*store, tap), 1u + 4u);  // the header and the parts

  const std::string exact = pattern(512, 'b');  // 2 full parts
  table.put("run", "resid", exact);
  EXPECT_EQ(table.get("run", "resid"), exact);
  EXPECT_EQ(keys_under(*store, tap), 1u + 2u);

  // A state that fits one part replaces the parted one: one key, no stale part.
  const std::string small = pattern(256, 'c');
  table.put("run", "resid", small);
  EXPECT_EQ(table.get("run", "resid"), small);
  EXPECT_EQ(keys_under(*store, tap), 1u);
  std::string raw;
  ASSERT_TRUE(store->get(Family::kCrosscoder, tap, &raw));
  EXPECT_EQ(raw, small);  // stored as it always was: readable by a build from before parts

  // Another tap whose name extends this one's is not this tap's part.
  table.put("run", "resid2", big);
  table.put("other", "resid", exact);
  const auto listed = table.list();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], std::make_pair(std::string("other"), std::string("resid")));
  EXPECT_EQ(listed[1], std::make_pair(std::string("run"), std::string("resid")));
  EXPECT_EQ(listed[2], std::make_pair(std::string("run"), std::string("resid2")));
  EXPECT_EQ(table.get("run", "resid"), small);
  EXPECT_EQ(table.get("run", "resid2"), big);
  EXPECT_FALSE(table.get("run", "none").has_value());

  // A table with another part size reads what this one wrote.
  EXPECT_EQ(CrosscoderStateTable(*store).get("run", "resid2"), big);
}

TEST(CrosscoderStateTable, AMissingPartIsAnErrorThatNamesIt) {
  TempDir dir;
  auto store = Store::open(dir.path());
  CrosscoderStateTable table(*store, 100);
  table.put("run", "resid", pattern(450, 'd'));
  StoreBatch batch;
  batch.erase(Family::kCrosscoder, KeyBuilder().text("run").text("resid").u32(2).str());
  store->write(batch);
  try {
    table.get("run", "resid");
    FAIL() << "a state with a part missing was read";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("run 'run', tap 'resid': part 3 of 5 is missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CrosscoderStateTable(*store, 0), std::invalid_argument);
}

// Run by hand (needs ~20 GB of memory and ~10 GB of disk): a state over
// RocksDB's 4 GiB limit for one value, at the default part size.
TEST(CrosscoderStateTable, DISABLED_AStateOverFourGiBIsStoredAndReadBack) {
  TempDir dir;
  auto store = Store::open(dir.path());
  const std::size_t bytes = (std::size_t(9) << 29) + 12345;  // 4.5 GiB and a bit
  std::string state(bytes, '\0');
  for (std::size_t i = 0; i < bytes; i += 4096) state[i] = static_cast<char>(i >> 12);
  StoreBatch one_value;  // what a state was before parts: refused (through Store::put, the store stopped taking writes)
  one_value.put_unowned(Family::kCrosscoder, "one value", state);
  EXPECT_THROW(store->write(one_value), StoreError);
  CrosscoderStateTable(*store).put("run", "resid", state);
  const auto back = CrosscoderStateTable(*store).get("run", "resid");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), bytes);
  EXPECT_TRUE(*back == state);
  std::printf("stored and read back %zu bytes in %zu parts\n", bytes,
              keys_under(*store, KeyBuilder().text("run").text("resid").str()) - 1);
}

}  // namespace
}  // namespace cw
