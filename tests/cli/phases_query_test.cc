// `phases` says when a feature series joined a transition raised on the
// job's scalars alone (its phase_transition_features event), on the store
// fixture of tests/fixtures/store_v1 (run "planted", tap "resid", one
// transition raised at step 200).
#include <gtest/gtest.h>

#include <string>

#include "query/analysis_queries.h"
#include "query/query_handler.h"
#include "store/analysis_tables.h"
#include "store/store.h"
#include "tests/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

TEST(PhasesQuery, SaysWhenTheFeaturesJoinedATransitionRaisedOnTheScalars) {
  testing::TempDir dir;
  testing::copy_directory(std::string(CW_SOURCE_DIR) + "/tests/fixtures/store_v1/data", dir.sub("data"));
  auto store = Store::open(dir.sub("data"));
  QueryHandler handler(*store);
  add_analysis_queries(handler, *store, EmergenceOptions{});
  const nlohmann::json params = {{"run", "planted"}, {"tap", "resid"}};

  const nlohmann::json before = handler.answer("phases", params)["transitions"];
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0]["raised_at_step"], 200);
  EXPECT_FALSE(before[0].contains("features_joined_at_step")) << before.dump(1);

  EventLog(*store).append("planted", {{"type", "phase_transition_features"}, {"run", "planted"}, {"tap", "resid"},
                                      {"transition", before[0]["transition"]}, {"raised_at_step", 240},
                                      {"raised_unix_ms", 1}, {"key", "transition:0:features"}});
  // Another tap's event is not this tap's.
  EventLog(*store).append("planted", {{"type", "phase_transition_features"}, {"run", "planted"}, {"tap", "other"},
                                      {"transition", before[0]["transition"]}, {"raised_at_step", 300}});
  const nlohmann::json after = handler.answer("phases", params)["transitions"];
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["features_joined_at_step"], 240) << after.dump(1);
  EXPECT_EQ(after[0]["raised_at_step"], 200);
}

}  // namespace
}  // namespace cw
