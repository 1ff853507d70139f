// A trainer rank's access to the daemon's row files (analysis/row_file_source.h):
// it opens the daemon's file, else its own copy; it writes a copy only
// under a row file's name, in its copies' directory.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analysis/row_file_source.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

// Gives `floats` as one chunk of raw float32 bytes.
std::function<bool(std::string*)> one_chunk(const std::vector<float>& floats) {
  auto given = std::make_shared<bool>(false);
  return [floats, given](std::string* bytes) {
    if (*given) return false;
    bytes->assign(reinterpret_cast<const char*>(floats.data()), floats.size() * sizeof(float));
    return *given = true;
  };
}

TEST(RankRowFiles, OpensTheDaemonsFileOrItsCopyAndCopiesOnlyUnderARowFilesName) {
  testing::TempDir daemon, copies;
  const std::vector<float> rows = {1, 2, 3, 4, 5, 6};  // 3 rows of 2
  const std::string name = "300.00000000000000ab.f32";
  std::ofstream(daemon.sub(name), std::ios::binary)
      .write(reinterpret_cast<const char*>(rows.data()), std::streamsize(rows.size() * sizeof(float)));
  const RowFileAccess access = rank_row_files(copies.path());
  std::vector<float> out(2);
  const auto here = access.open({daemon.sub(name)}, 3, 2);  // the daemon's own file
  here->read_range(0, 2, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{5, 6}));

  const std::string elsewhere = "/nonexistent-machine-a/" + name;
  EXPECT_THROW(access.open({elsewhere}, 3, 2), StoreError);  // neither there nor copied
  access.keep(elsewhere, one_chunk(rows));
  EXPECT_TRUE(std::filesystem::exists(copies.sub(name)));
  access.open({elsewhere}, 3, 2)->read_range(0, 0, 1, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2}));
  EXPECT_THROW(access.open({elsewhere}, 4, 2), StoreError);  // a copy of another size is no copy

  // A name not of the daemon's form is refused before anything is written.
  for (const std::string bad : {"/x/..", "/x/passwd", "/x/300.ab.f32", "/x/.00000000000000ab.f32"}) {
    EXPECT_THROW(access.keep(bad, one_chunk(rows)), StoreError) << bad;
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(copies.path()), {}), 1);

  // Without a copies' directory nothing is kept.
  EXPECT_FALSE(rank_row_files("").keep);
  EXPECT_THROW(rank_row_files("").open({elsewhere}, 3, 2), StoreError);
}

// A copy no open has read for longer than the rank keeps them is removed
// (a deleted run's), unless the block in hand names it; reading one marks
// it used; only row files' names are touched. Each side of the age: a copy
// 8 days unused against 7 kept goes, one read an instant ago stays.
TEST(RankRowFiles, PrunesCopiesUnusedLongerThanItKeepsThemAndNothingElse) {
  testing::TempDir copies;
  const std::vector<float> rows = {1, 2, 3, 4};  // 2 rows of 2
  const RowFileAccess access = rank_row_files(copies.path(), std::chrono::hours(24 * 7));
  EXPECT_TRUE(access.prune({}).empty());  // nothing copied yet: no folder, nothing to do
  const std::string stale = "20.00000000000000aa.f32", read = "40.00000000000000bb.f32",
                    in_hand = "60.00000000000000cc.f32";
  for (const auto& name : {stale, read, in_hand}) access.keep("/elsewhere/" + name, one_chunk(rows));
  std::ofstream(copies.sub("notes.txt")) << "not a row file";
  const auto eight_days_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 8);
  for (const auto& name : {stale, read, in_hand, std::string("notes.txt")})
    std::filesystem::last_write_time(copies.sub(name), eight_days_ago);
  access.open({"/elsewhere/" + read}, 2, 2);  // read now: used

  const std::vector<std::string> removed = access.prune({"/elsewhere/" + in_hand});
  EXPECT_EQ(removed, std::vector<std::string>{stale});
  EXPECT_FALSE(std::filesystem::exists(copies.sub(stale)));
  for (const auto& name : {read, in_hand, std::string("notes.txt")})
    EXPECT_TRUE(std::filesystem::exists(copies.sub(name))) << name;
  EXPECT_TRUE(access.prune({}).size() == 1 && !std::filesystem::exists(copies.sub(in_hand)))
      << "the copy no block holds any more is removed at the next prune";
  EXPECT_FALSE(rank_row_files("").prune);
}

// Beyond the bytes a rank keeps, the least recently read copies go first,
// never the block's own, even when those alone take more than the cap.
// Each copy is 16 bytes: a cap of 48 keeps three, one of 47 two.
TEST(RankRowFiles, ACapRemovesTheLeastRecentlyReadCopiesButNeverTheBlocksOwn) {
  testing::TempDir copies;
  const std::vector<float> rows = {1, 2, 3, 4};  // 2 rows of 2: 16 bytes
  const std::vector<std::string> names = {"10.00000000000000a1.f32", "20.00000000000000a2.f32",
                                          "30.00000000000000a3.f32", "40.00000000000000a4.f32"};
  // Every copy made again, copy k read (4 − k) minutes ago: within the age
  // kept, so the cap alone decides.
  const auto make = [&](uint64_t cap) {
    for (const auto& name : names) std::filesystem::remove(copies.sub(name));
    const RowFileAccess access = rank_row_files(copies.path(), std::chrono::hours(24 * 7), cap);
    for (size_t k = 0; k < names.size(); ++k) {
      access.keep("/elsewhere/" + names[k], one_chunk(rows));
      std::filesystem::last_write_time(copies.sub(names[k]), std::filesystem::file_time_type::clock::now() -
                                                                  std::chrono::minutes(int(names.size() - k)));
    }
    return access;
  };
  // 64 bytes, cap 48: the least recently read (10) goes; 30 is in hand.
  EXPECT_EQ(make(48).prune({"/elsewhere/" + names[2]}), std::vector<std::string>{names[0]});
  // Cap 47: 20 goes too.
  EXPECT_EQ(make(47).prune({"/elsewhere/" + names[2]}), (std::vector<std::string>{names[0], names[1]}));
  // The block's own copies stay even above the cap; no cap removes nothing.
  std::vector<std::string> all;
  for (const auto& name : names) all.push_back("/elsewhere/" + name);
  EXPECT_TRUE(make(16).prune(all).empty());
  EXPECT_TRUE(make(0).prune({}).empty());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(copies.path()), {}), 4);
}

}  // namespace
}  // namespace cw
