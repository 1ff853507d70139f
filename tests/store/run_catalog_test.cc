#include "store/run_catalog.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::TempDir;

RunDescription described_run(const std::string& name) {
  RunDescription run = testing::make_run(name, {"blocks.0.resid_post", "blocks.3.resid_post"}, 48, 128, 32);
  run.dtype = DType::kBF16;
  run.probe.vocabulary = {"<pad>", "the", " cat", "\xe2\x80\x9cquoted\xe2\x80\x9d"};
  run.tasks.push_back({"induction", {1, 2, 3, 1, 2, 3}, 6, "loss on the second copy"});
  return run;
}

TEST(RunCatalog, PutGetRoundTripsTheDescriptionAndProbeHash) {
  TempDir dir;
  auto store = Store::open(dir.path());
  RunCatalog catalog(*store);
  EXPECT_FALSE(catalog.get("r1").has_value());
  const RunDescription run = described_run("r1");
  catalog.put(run, 1234567);

  auto entry = catalog.get("r1");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->description.run, "r1");
  ASSERT_EQ(entry->description.taps.size(), 2u);
  EXPECT_EQ(entry->description.taps[1].name, "blocks.3.resid_post");
  EXPECT_EQ(entry->description.taps[1].d_model, 48u);
  EXPECT_EQ(entry->description.dtype, DType::kBF16);
  ASSERT_EQ(entry->description.tasks.size(), 1u);
  EXPECT_EQ(entry->description.tasks[0].name, "induction");
  EXPECT_EQ(entry->description.tasks[0].token_ids, (std::vector<uint32_t>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(entry->description.tasks[0].metric, "loss on the second copy");
  EXPECT_EQ(entry->probe_hash, run.probe.hash());
  EXPECT_EQ(entry->n_probe_tokens, 128u);
  EXPECT_EQ(entry->created_unix_ms, 1234567u);
  // The run record leaves the probe's tokens to their own family.
  EXPECT_TRUE(entry->description.probe.token_ids.empty());
}

TEST(RunCatalog, ProbeSetRoundTripsExactly) {
  TempDir dir;
  auto store = Store::open(dir.path());
  RunCatalog catalog(*store);
  const RunDescription run = described_run("r1");
  catalog.put(run, 1);
  auto probe = catalog.probe("r1");
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->token_ids, run.probe.token_ids);
  EXPECT_EQ(probe->sequence_length, 32u);
  EXPECT_EQ(probe->vocabulary, run.probe.vocabulary);
  EXPECT_EQ(probe->hash(), run.probe.hash());
  EXPECT_FALSE(catalog.probe("r2").has_value());
}

TEST(RunCatalog, ListReturnsEveryRunInNameOrder) {
  TempDir dir;
  auto store = Store::open(dir.path());
  RunCatalog catalog(*store);
  for (const char* name : {"gamma", "alpha", "beta"}) catalog.put(described_run(name), 5);
  // Putting a run again replaces it rather than adding a second entry.
  catalog.put(described_run("alpha"), 6);
  const auto runs = catalog.list();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].description.run, "alpha");
  EXPECT_EQ(runs[0].created_unix_ms, 6u);
  EXPECT_EQ(runs[1].description.run, "beta");
  EXPECT_EQ(runs[2].description.run, "gamma");
}

TEST(RunCatalog, ARunNamedLikeAPrefixOfAnotherStaysSeparate) {
  TempDir dir;
  auto store = Store::open(dir.path());
  RunCatalog catalog(*store);
  RunDescription short_run = described_run("run");
  RunDescription long_run = testing::make_run("run-2", {"t"}, 8, 64, 64, 99);
  catalog.put(short_run, 1);
  catalog.put(long_run, 2);
  EXPECT_EQ(catalog.probe("run")->token_ids, short_run.probe.token_ids);
  EXPECT_EQ(catalog.probe("run-2")->token_ids, long_run.probe.token_ids);
  EXPECT_EQ(catalog.get("run-2")->description.taps.size(), 1u);
}

}  // namespace
}  // namespace cw
