// The main job end to end: tinygpt (a real LibTorch pre-training run, its own
// process) publishing to the real conceptwatchd, whose phase-transition
// alert is judged against the job's own log. Also the controls the issue
// asks for: a learning rate too small to transition within the run, and a
// one-layer model with and without a fixed copy offset. These runs use
// learned positions (GPT-2's), what they were written and measured with;
// TinyGptFeatureSignals runs tinygpt's default, rotary.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <ostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <algorithm>
#include <string>
#include <vector>

#include "schema/unix_time.h"
#include "tests/analysis/planted_stream.h"  // wait_for_crosscoder, write_crosscoder_config
#include "tests/support/daemon_process.h"

namespace cw {
namespace {

using testing::DaemonProcess;

struct Job {
  const char* name;
  const char* args;  // tinygpt options beyond the shared ones
  const char* tap;
};

// gtest prints a parameter in test names and failures; the run's name says it.
void PrintTo(const Job& job, std::ostream* out) { *out << job.name << " (" << job.args << ")"; }

struct JobRun {
  std::optional<uint64_t> loss_drop;  // first step with second-copy loss < 2.0, from the job's own log
  uint64_t ended_ms = 0;              // wall clock when training ended
  int64_t snapshots = 0;              // checkpoints taken (probe snapshots sent)
  double heldout_bigram = 0;          // kjv: the job's bigram entropy of its held-out text
};

// A small crosscoder that keeps pace with tinygpt on two cores.
const char* kCrosscoder = R"(n_features = 128
steps_per_update = 100
seconds_per_update = 1.5
batch_size = 256
lr = 0.002
threads = 1
sparsity_lambda = 0.03
)";

JobRun train(const DaemonProcess& daemon, const Job& job) {
  const std::string jsonl = daemon.scratch().sub(std::string(job.name) + ".jsonl");
  const std::string log = daemon.scratch().sub(std::string(job.name) + ".log");
  const std::string command = std::string(CW_TINYGPT_PATH) + " --seed 0 --run " + job.name +
                              " --tap " + job.tap + " --log-spaced-until 64 --snapshot-every 20 --log-every 100" +
                              " --quiet-sink --conceptwatch " + daemon.ingest_endpoint() + " --out " + jsonl + " " +
                              job.args + " > " + log + " 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("tinygpt failed: " + command);
  JobRun run;
  run.ended_ms = unix_now_ms();
  std::ifstream rows(jsonl);
  for (std::string line; std::getline(rows, line);) {
    const auto row = nlohmann::json::parse(line);
    if (!run.loss_drop && row.value("second_copy_loss", 9.0) < 2.0) run.loss_drop = row["step"].get<uint64_t>();
  }
  std::ifstream text(log);
  for (std::string line; std::getline(text, line);) {
    double unigram = 0, bigram = 0;
    if (std::sscanf(line.c_str(), "  held-out text entropies: unigram %lf, bigram %lf", &unigram, &bigram) == 2)
      run.heldout_bigram = bigram;
    // "summary: repeat, 600 steps in 23.5 s (39.1 ms/step, 1 thread(s)), 38 snapshots, ..."
    const auto at = line.find(" snapshots,");
    if (line.rfind("summary:", 0) == 0 && at != std::string::npos)
      run.snapshots = std::stoll(line.substr(line.rfind(' ', at - 1) + 1));
  }
  return run;
}

// The induction task (tinygpt's logit margin on second-copy tokens), at
// the ln_final tap: the top features by attribution after the transition
// are ones that emerged during it. "During" is the transition's move, from
// when it began to as far past its half-way point (onset_step) as it began
// before it. The top 10 at every snapshot after the onset are counted.
// Measured (256-feature crosscoder): 10 of the top 10 at the final
// snapshot, from 131 of 256 features that never emerged. Why ln_final and
// not blocks.1.resid_post: there the first-copy rows' residuals are ~100×
// the second-copy rows' in energy (|x|² 35 against 0.5), the crosscoder's
// MSE never sees what the unembedding reads on the second copy, and its
// features carried under 3% of the metric's linear read (README, "What the main
// job shows").
struct AttributionCheck {
  // "Emerged" here: emerged, or strengthened (the norm rose over activations
  // that already carried the feature: detect/emergence.h) during the transition.
  double top_share = 0;   // mean over snapshots after the onset: share of the top 10 emerged during the transition
  double final_share = 0; // the same at the final snapshot
  double base_share = 0;  // share of all features that emerged during it
  double explained = 0;   // at the final snapshot: Σ attr over Σ x · ∂m/∂x
};

AttributionCheck check_attribution(const DaemonProcess& daemon, const std::string& run, const std::string& tap,
                                   const nlohmann::json& transition, const std::vector<uint64_t>& snapshots) {
  constexpr int kTop = 10;
  const auto answer = daemon.query("attribution", {{"run", run}, {"tap", tap}, {"task", "induction"}, {"top", kTop}});
  EXPECT_TRUE(answer["complete"].get<bool>()) << answer.dump();
  EXPECT_EQ(answer["steps"].size(), snapshots.size());
  const uint64_t began = transition["began_step"].get<uint64_t>(), at = transition["onset_step"].get<uint64_t>();
  const uint64_t end = at + (at - began);
  auto during = [&](const nlohmann::json& step) {
    return !step.is_null() && step.get<uint64_t>() >= began && step.get<uint64_t>() <= end;
  };
  AttributionCheck check;
  int counted = 0;
  for (const auto& snapshot : answer["snapshots"]) {
    if (snapshot["step"].get<uint64_t>() <= at) continue;
    int carried = 0;
    for (const auto& top : snapshot["top"]) carried += during(top["emerged_step"]) || during(top["strengthened_step"]);
    check.final_share = double(carried) / kTop;
    check.top_share += check.final_share;
    ++counted;
    check.explained = snapshot["explained"].get<double>();
  }
  if (counted > 0) check.top_share /= counted;
  size_t emerged_during = 0, n_features = 0;
  const auto features = daemon.query("features", {{"run", run}, {"tap", tap}, {"filter", "all"}, {"limit", 100000}});
  for (const auto& f : features["features"])
    emerged_during += during(f["emerged_step"]) || during(f["strengthened_step"]), ++n_features;
  check.base_share = n_features ? double(emerged_during) / double(n_features) : 0;
  std::printf("%s: top %d features by attribution after step %llu that emerged in [%llu, %llu]: %.2f on average over "
              "%d snapshots, %.2f at the last; %.2f of all %zu features emerged then; the features carry %.2f of "
              "the metric's linear read at the last snapshot\n",
              run.c_str(), kTop, (unsigned long long)at, (unsigned long long)began, (unsigned long long)end,
              check.top_share, counted, check.final_share, check.base_share, n_features, check.explained);
  EXPECT_GT(counted, 3);
  return check;
}

class TinyGptDaemon : public ::testing::TestWithParam<Job> {};

// The daemon flags a phase transition exactly when the job's loss fell, and
// then once, dated within one snapshot of the step where the second-copy
// loss fell below 2.0, raised live (from a snapshot before the run's last).
TEST_P(TinyGptDaemon, FlagsOneTransitionAtTheLossDropAndNoneWithout) {
  const Job& job = GetParam();
  testing::TempDir config_dir;
  DaemonProcess daemon({"--config", testing::write_crosscoder_config(config_dir, kCrosscoder)});
  daemon.start();
  const JobRun run = train(daemon, job);
  ASSERT_GT(run.snapshots, 20) << daemon.log();
  testing::wait_for_crosscoder(daemon, job.name, run.snapshots);

  const auto phases = daemon.query("phases", {{"run", job.name}});
  std::vector<uint64_t> snapshots;
  for (const auto& row : phases["series"]) snapshots.push_back(row["step"].get<uint64_t>());
  const auto& transitions = phases["transitions"];
  std::string said;
  for (const auto& t : transitions)
    said += " [at step " + t["onset_step"].dump() + ", began " + t["began_step"].dump() + ", raised at step " +
            t.value("raised_at_step", t["alarm_step"]).dump() + "; feature signals " +
            t.value("feature_signals", nlohmann::json::array()).dump() + ", scalars " +
            t.value("scalar_signals", nlohmann::json::array()).dump() + "]";
  std::printf("%s: second-copy loss < 2.0 at step %s; the daemon flagged %zu transition(s)%s\n", job.name,
              run.loss_drop ? std::to_string(*run.loss_drop).c_str() : "never", transitions.size(), said.c_str());

  if (!run.loss_drop) {
    EXPECT_TRUE(transitions.empty()) << said;
    return;
  }
  ASSERT_EQ(transitions.size(), 1u) << said;
  const auto& t = transitions[0];
  // Distance in snapshots between the estimate and the first snapshot at or
  // after the loss drop (the first one that can show it).
  auto index_of = [&](uint64_t step) {
    return static_cast<long>(std::lower_bound(snapshots.begin(), snapshots.end(), step) - snapshots.begin());
  };
  EXPECT_LE(std::labs(index_of(t["onset_step"].get<uint64_t>()) - index_of(*run.loss_drop)), 1) << said;
  // Raised live: from the data of a snapshot before the run's last, and
  // while the run ran or just after. The wall-clock slack is for a loaded
  // 2-core CI machine, where the crosscoder (idle priority) trails training:
  // a clean-clone CI run raised this alert from step 440 of 560, 272 ms after
  // the job exited.
  ASSERT_TRUE(t.contains("raised_unix_ms")) << t.dump();
  EXPECT_LT(t.value("raised_at_step", t["alarm_step"]).get<uint64_t>(), snapshots.back())
      << "raised only from the run's last snapshot: " << said;
  constexpr uint64_t kLagMs = 10'000;
  EXPECT_LE(t["raised_unix_ms"].get<uint64_t>(), run.ended_ms + kLagMs)
      << "raised more than " << kLagMs << " ms after training ended: " << said;
  // One alert's worth of events: one phase_transition event for the run.
  const auto events = daemon.query("events", {{"run", job.name}, {"type", "phase_transition"}});
  EXPECT_EQ(events.size(), 1u) << events.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Runs, TinyGptDaemon,
    ::testing::Values(
        // The runs that transition pause 150 ms after each snapshot. Flat out,
        // tinygpt takes one every ~0.5 s (20 steps), faster than an update, so
        // the daemon takes them in backlogs, and beside another test on a
        // 2-core machine it trails by seconds: the one-layer run's alert,
        // dated 360 every time, was raised from snapshots 360-560 (12 runs
        // beside a planted benchmark, with and without held-out rows), from
        // the run's last (560) in 1 of 12 and in a clean-clone CI run. With
        // 150 ms, same load: 340-440 in 6 of 6 (induction: 360-440 of 600).
        // Real jobs' checkpoints are minutes apart.
        // The main job's run: the second-copy loss falls below 2.0 at step 418.
        Job{"induction", "--positions learned --dataset repeat --steps 600 --pause-after-snapshot-ms 150",
            "blocks.1.resid_post"},
        // Too small to transition within the run (second copy 3.0 at step 600).
        Job{"small_lr", "--positions learned --dataset repeat --steps 600 --lr 1e-4", "blocks.1.resid_post"},
        // One layer, fixed copy offset: a positional head solves it (falls at 372).
        Job{"one_layer", "--positions learned --dataset repeat --steps 560 --layers 1 --pause-after-snapshot-ms 150",
            "blocks.0.resid_post"},
        // One layer, copy offset varying: it cannot, no drop.
        Job{"one_layer_varying_offset", "--positions learned --dataset repeat --steps 560 --layers 1 --repeat-min-n 16",
            "blocks.0.resid_post"}),
    [](const ::testing::TestParamInfo<Job>& info) { return std::string(info.param.name); });

// The feature signals alone (no job scalars watched) on the demo's run:
// rotary positions, where the copied token grows from 5% to 39% of the
// residual stream's variance across the transition (docs/CROSSCODER.md,
// "tinygpt: position in the residual stream"). Exactly one transition,
// within two snapshots of the job's own second-copy loss < 2.0, flagged by
// crosscoder series; none at start-up.
class TinyGptFeatureSignals : public ::testing::TestWithParam<Job> {};

TEST_P(TinyGptFeatureSignals, FlagTheTransitionWithoutTheJobsScalars) {
  const Job& job = GetParam();
  testing::TempDir config_dir;
  DaemonProcess daemon({"--config", testing::write_crosscoder_config(
                                        config_dir, std::string(kCrosscoder) + "\n[transitions]\nscalars = []\n")});
  daemon.start();
  const JobRun run = train(daemon, job);
  ASSERT_GT(run.snapshots, 20) << daemon.log();
  ASSERT_TRUE(run.loss_drop) << "the job did not transition";
  testing::wait_for_crosscoder(daemon, job.name, run.snapshots);
  const auto phases = daemon.query("phases", {{"run", job.name}});
  std::vector<uint64_t> snapshots;
  for (const auto& row : phases["series"]) snapshots.push_back(row["step"].get<uint64_t>());
  const auto& transitions = phases["transitions"];
  std::printf("%s: second-copy loss < 2.0 at step %llu; without scalars: %s\n", job.name,
              (unsigned long long)*run.loss_drop, transitions.dump().c_str());
  ASSERT_EQ(transitions.size(), 1u) << transitions.dump();
  const auto& t = transitions[0];
  EXPECT_TRUE(t["scalar_signals"].empty()) << t.dump();
  EXPECT_FALSE(t["feature_signals"].empty()) << t.dump();
  auto index_of = [&](uint64_t step) {
    return static_cast<long>(std::lower_bound(snapshots.begin(), snapshots.end(), step) - snapshots.begin());
  };
  EXPECT_LE(std::labs(index_of(t["onset_step"].get<uint64_t>()) - index_of(*run.loss_drop)), 2) << t.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Rotary, TinyGptFeatureSignals,
    ::testing::Values(Job{"rotary_d64", "--dataset repeat --steps 600", "blocks.1.resid_post"},
                      Job{"rotary_d128", "--dataset repeat --steps 400 --d-model 128",
                          "blocks.1.resid_post"}),
    [](const ::testing::TestParamInfo<Job>& info) { return std::string(info.param.name); });

// Attribution on the induction task, at the ln_final tap with the demo's
// 256-feature crosscoder (at 128 features the top 10 held 7 of them, the
// features carried 13% of the metric's linear read; at 256, 10 of 10 and
// 33-37%). The transition judged is the one nearest the loss drop: at
// ln_final the crosscoder's start-up can also spike its surprise ratio
// (seen once at step 140, ratio 20).
// Every update trains its 150 steps (no seconds budget): under ctest -j2 a
// 2-second budget cut updates short, and the share of features dated into
// the window moved from 0.45 to 0.70 between runs of the same build.
TEST(TinyGptDaemonAttribution, TopFeaturesAfterTheTransitionEmergedDuringIt) {
  testing::TempDir config_dir;
  DaemonProcess daemon({"--config", testing::write_crosscoder_config(config_dir, R"(n_features = 256
steps_per_update = 150
batch_size = 256
lr = 0.002
threads = 1
sparsity_lambda = 0.03
)")});
  daemon.start();
  const Job job{"attribution", "--positions learned --dataset repeat --steps 600", "ln_final"};
  const JobRun run = train(daemon, job);
  ASSERT_GT(run.snapshots, 20) << daemon.log();
  ASSERT_TRUE(run.loss_drop);
  testing::wait_for_crosscoder(daemon, job.name, run.snapshots);
  const auto phases = daemon.query("phases", {{"run", job.name}});
  std::vector<uint64_t> snapshots;
  for (const auto& row : phases["series"]) snapshots.push_back(row["step"].get<uint64_t>());
  const nlohmann::json* nearest = nullptr;
  auto distance = [&](const nlohmann::json& t) {
    return std::labs(long(t["onset_step"].get<uint64_t>()) - long(*run.loss_drop));
  };
  for (const auto& t : phases["transitions"])
    if (!nearest || distance(t) < distance(*nearest)) nearest = &t;
  ASSERT_TRUE(nearest) << "no transition flagged at " << job.tap;
  ASSERT_LE(distance(*nearest), 40) << nearest->dump();
  const auto check = check_attribution(daemon, job.name, job.tap, *nearest, snapshots);
  EXPECT_GE(check.top_share, 0.8);
  EXPECT_GE(check.final_share, 0.8);
  EXPECT_GE(check.top_share, check.base_share + 0.3);
  EXPECT_GE(check.explained, 0.2);
}

// Dataset (b): character-level KJV. The daemon labels the paper's phases
// from the job's loss against the probe set's entropies; its switch to
// feature learning must come within two snapshots of where the training
// loss crosses below the probe set's bigram entropy for good (it sits on
// the line for a few snapshots first: the paper's plateau).
TEST(TinyGptDaemonKjv, FeatureLearningLabelWithinTwoSnapshotsOfTheBigramCrossing) {
  testing::TempDir config_dir;
  DaemonProcess daemon({"--config", testing::write_crosscoder_config(config_dir, kCrosscoder)});
  daemon.start();
  // 128 probe windows of 64 characters: on 16 the bigram entropy itself is
  // poorly estimated (detect/entropy.h).
  const Job job{"kjv", "--positions learned --dataset kjv --mlp --lr 1e-3 --steps 360 --probe-sequences 128", "blocks.1.resid_post"};
  const JobRun run = train(daemon, job);
  ASSERT_GT(run.snapshots, 20) << daemon.log();
  testing::wait_for_crosscoder(daemon, job.name, run.snapshots);

  const auto phases = daemon.query("phases", {{"run", job.name}});
  std::optional<uint64_t> labelled;
  double bigram = 0;
  for (const auto& change : phases["phase_changes"]) {
    if (change["phase"] == "feature-learning" && !labelled) {
      labelled = change["step"].get<uint64_t>();
      bigram = change["bigram_entropy"].get<double>();
    }
  }
  ASSERT_TRUE(labelled) << phases["phase_changes"].dump();
  // The probe set is 8,192 contiguous held-out characters (a few chapters):
  // its bigram entropy (2.20 measured) is near the whole held-out text's
  // (2.275), not equal to it. The judge is the probe set's, as the daemon's.
  EXPECT_NEAR(bigram, run.heldout_bigram, 0.15);

  // The job's own training loss at each snapshot: the first snapshot from
  // which it stays below the bigram entropy.
  std::vector<uint64_t> snapshots;
  std::vector<double> train_loss, heldout_loss;
  for (const auto& row : phases["series"]) {
    snapshots.push_back(row["step"].get<uint64_t>());
    train_loss.push_back(row["train_loss"].get<double>());
    heldout_loss.push_back(row["heldout_loss"].get<double>());
  }
  auto crossing = [&](const std::vector<double>& loss) {
    size_t at = loss.size();
    for (size_t i = loss.size(); i-- > 0 && loss[i] < bigram;) at = i;
    return at;
  };
  const size_t by_train = crossing(train_loss), by_heldout = crossing(heldout_loss);
  ASSERT_LT(by_train, snapshots.size()) << "the training loss never stayed below " << bigram;
  const long label_index =
      static_cast<long>(std::lower_bound(snapshots.begin(), snapshots.end(), *labelled) - snapshots.begin());
  std::printf("kjv: bigram entropy %.3f (job's held-out text %.3f); training loss below it for good from step %llu, "
              "held-out loss from step %llu; the daemon labelled feature learning from step %llu\n",
              bigram, run.heldout_bigram, (unsigned long long)snapshots[by_train],
              (unsigned long long)(by_heldout < snapshots.size() ? snapshots[by_heldout] : 0),
              (unsigned long long)*labelled);
  EXPECT_LE(std::labs(label_index - static_cast<long>(by_train)), 2);
}

}  // namespace
}  // namespace cw
