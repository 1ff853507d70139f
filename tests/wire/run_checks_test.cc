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
  EXPECT_EQ(error_with([](RunDescription& r) { r.taps.push_back({"blocks.0.resid_post", 16}); }),
            "tap 'blocks.0.resid_post' is listed twice");
  EXPECT_EQ(error_with([](RunDescription& r) { r.taps.push_back({"blocks.1.resid_post", 16}); }), "");
  EXPECT_EQ(error_with([](RunDescription& r) { r.tasks.push_back(r.tasks[0]); }), "task 'induction' is listed twice");
}

TEST(RunChecks, NamesAreShortValidUtf8WithoutControlCharacters) {
  EXPECT_EQ(check_name("run id", "r\xc3\xa9sum\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80"), "");  // é, €, an emoji
  EXPECT_EQ(check_name("run id", std::string(200, 'a')), "");
  EXPECT_NE(check_name("run id", std::string(201, 'a')).find("longer than 200 bytes"), std::string::npos);
  EXPECT_EQ(check_name("run id", ""), "run id is empty");
  EXPECT_EQ(check_name("run id", "bad\xff"), "run id 'bad\\xff' is not valid UTF-8 (byte 0xff at offset 3)");
  EXPECT_NE(check_name("tap name", "\xc3").find("not valid UTF-8"), std::string::npos);          // truncated
  EXPECT_NE(check_name("tap name", "\xc0\xaf").find("not valid UTF-8"), std::string::npos);     // overlong '/'
  EXPECT_NE(check_name("tap name", "\xed\xa0\x80").find("not valid UTF-8"), std::string::npos);  // surrogate
  EXPECT_NE(check_name("tap name", "\xf4\x90\x80\x80").find("not valid UTF-8"), std::string::npos);  // > U+10FFFF
  EXPECT_NE(check_name("task name", "a\nb").find("control character"), std::string::npos);
  EXPECT_NE(check_name("task name", "a/b").find("'/'"), std::string::npos);
  EXPECT_EQ(check_scalar_name("scalar name", "train/loss"), "");
  EXPECT_NE(check_scalar_name("scalar name", "loss\x80").find("scalar name 'loss\\x80' is not valid UTF-8"),
            std::string::npos);
}

TEST(RunChecks, QuotedNamesAreValidTextOfBoundedSize) {
  EXPECT_EQ(quoted_name("a\xff\x01\xc3\xa9"), "'a\\xff\\x01\xc3\xa9'");
  EXPECT_EQ(quoted_name(std::string(1000, 'a')), "'" + std::string(64, 'a') + "' (1000 bytes)");
}

TEST(RunChecks, SnapshotScalarNamesAreChecked) {
  SnapshotMeta meta = probe_meta(6, 8);
  meta.scalars = {{"train/loss", 1.0}};
  EXPECT_FALSE(check_snapshot_meta(good_run(), 6, meta).has_value());
  meta.scalars.push_back({"lr\xfe", 0.1});
  auto problem = check_snapshot_meta(good_run(), 6, meta);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->code, wire::ErrorCode::BAD_REQUEST);
  EXPECT_NE(problem->message.find("scalar name"), std::string::npos) << problem->message;
}

TEST(RunChecks, KindsAreKnownAndOnlyTaskArraysNameATask) {
  SnapshotMeta meta = probe_meta(6, 8);
  meta.key.task = "induction";  // a second key for the same probe step
  auto named = check_snapshot_meta(good_run(), 6, meta);
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->code, wire::ErrorCode::BAD_REQUEST);
  EXPECT_EQ(named->message, "a probe array names no task (this one names 'induction'); only task arrays do");

  meta.key.kind = static_cast<ArrayKind>(7);
  auto unknown = check_snapshot_meta(good_run(), 6, meta);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->code, wire::ErrorCode::BAD_REQUEST);
  EXPECT_EQ(unknown->message,
            "array kind 7 is unknown; known kinds: probe (0), task-activations (1), task-gradient (2)");
}

TEST(RunChecks, SnapshotShapeMustMatchItsTapAndProbe) {
  const RunDescription run = good_run();
  EXPECT_FALSE(check_snapshot_meta(run, 6, probe_meta(6, 8)).has_value());

  auto wrong_rows = check_snapshot_meta(run, 6, probe_meta(5, 8));
  ASSERT_TRUE(wrong_rows.has_value());
  EXPECT_EQ(wrong_rows->code, wire::ErrorCode::BAD_SHAPE);
  EXPECT_EQ(wrong_rows->message, "shape [5 x 8] does not match [6 x 8]");
  EXPECT_TRUE(check_snapshot_meta(run, 6, probe_meta(6, 9)).has_value());

  SnapshotMeta unknown_tap = probe_meta(6, 8);
  unknown_tap.key.tap = "embed";
  auto tap_problem = check_snapshot_meta(run, 6, unknown_tap);
  ASSERT_TRUE(tap_problem.has_value());
  EXPECT_EQ(tap_problem->code, wire::ErrorCode::UNKNOWN_TAP);
}

TEST(RunChecks, TaskArraysHaveTheTasksTokenCount) {
  const RunDescription run = good_run();
  SnapshotMeta task = probe_meta(3, 8);
  task.key.kind = ArrayKind::kTaskGradient;
  task.key.task = "induction";
  EXPECT_FALSE(check_snapshot_meta(run, 6, task).has_value());
  task.n_tokens = 6;  // the probe's count is wrong for a task array
  EXPECT_TRUE(check_snapshot_meta(run, 6, task).has_value());
  task.key.task = "copying";
  auto unknown = check_snapshot_meta(run, 6, task);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->message, "task 'copying' is not registered");
}

}  // namespace
}  // namespace cw
