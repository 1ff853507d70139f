// The run and shape checks the publisher and the daemon share
// (schema/run_checks.h): one case on each side of every rule.
#include "schema/run_checks.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

RunDescription good_run() {
  RunDescription run;
  run.run = "run-1";
  run.taps = {{"blocks.0.resid_post", 8}};
  run.probe.token_ids = {1, 2, 3, 4, 5, 6};
  run.probe.sequence_length = 3;
  run.tasks = {{"induction", {1, 2, 3}, 3, "logit diff"}};
  return run;
}

SnapshotMeta probe_meta(uint32_t n_tokens, uint32_t d_model) {
  SnapshotMeta meta;
  meta.key = {"run-1", "blocks.0.resid_post", 10, ArrayKind::kProbeActivations, ""};
  meta.n_tokens = n_tokens;
  meta.d_model = d_model;
  return meta;
}

TEST(RunChecks, AcceptsAUsableRun) { EXPECT_EQ(check_run(good_run()), ""); }

TEST(RunChecks, NamesWhatMakesARunUnusable) {
  auto error_with = [](auto change) {
    RunDescription run = good_run();
    change(run);
    return check_run(run);
  };
  EXPECT_NE(error_with([](RunDescription& r) { r.run = "a/b"; }).find("run id"), std::string::npos);
  EXPECT_EQ(error_with([](RunDescription& r) { r.taps.clear(); }), "no taps");
  EXPECT_EQ(error_with([](RunDescription& r) { r.taps[0].d_model = 0; }), "tap 'blocks.0.resid_post' has d_model 0");
  EXPECT_NE(error_with([](RunDescription& r) { r.probe.token_ids.pop_back(); }).find("whole number of sequences"),
            std::string::npos);
  EXPECT_NE(error_with([](RunDescription& r) { r.probe.sequence_length = 0; }).find("whole number of sequences"),
            std::string::npos);
  EXPECT_EQ(error_with([](RunDescription& r) { r.tasks[0].token_ids.clear(); }), "task 'induction' has no tokens");
}

TEST(RunChecks, SnapshotShapeMustMatchItsTapAndProbe) {
  const RunDescription run = good_run();
  EXPECT_FALSE(check_snapshot_shape(run, 6, probe_meta(6, 8)).has_value());

  auto wrong_rows = check_snapshot_shape(run, 6, probe_meta(5, 8));
  ASSERT_TRUE(wrong_rows.has_value());
  EXPECT_EQ(wrong_rows->code, wire::ErrorCode::BAD_SHAPE);
  EXPECT_EQ(wrong_rows->message, "shape [5 x 8] does not match [6 x 8]");
  EXPECT_TRUE(check_snapshot_shape(run, 6, probe_meta(6, 9)).has_value());

  SnapshotMeta unknown_tap = probe_meta(6, 8);
  unknown_tap.key.tap = "embed";
  auto tap_problem = check_snapshot_shape(run, 6, unknown_tap);
  ASSERT_TRUE(tap_problem.has_value());
  EXPECT_EQ(tap_problem->code, wire::ErrorCode::UNKNOWN_TAP);
}

TEST(RunChecks, TaskArraysHaveTheTasksTokenCount) {
  const RunDescription run = good_run();
  SnapshotMeta task = probe_meta(3, 8);
  task.key.kind = ArrayKind::kTaskGradient;
  task.key.task = "induction";
  EXPECT_FALSE(check_snapshot_shape(run, 6, task).has_value());
  task.n_tokens = 6;  // the probe's count is wrong for a task array
  EXPECT_TRUE(check_snapshot_shape(run, 6, task).has_value());
  task.key.task = "copying";
  auto unknown = check_snapshot_shape(run, 6, task);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->message, "task 'copying' is not registered");
}

}  // namespace
}  // namespace cw
