// A store written before the store had one record format (the fixture of
// tests/fixtures/store_v1, written by main ebc7072) opened by the current
// conceptwatchd: it migrates the store on open, and every query answers as
// the daemon that wrote the store answered. The read-only CLI path answers
// the same from an unmigrated copy; a second open changes nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "query/analysis_queries.h"
#include "query/query_handler.h"
#include "schema/json_text.h"
#include "store/store.h"
#include "store/store_format.h"
#include "tests/store/store_fixture.h"

namespace cw {
namespace {

using testing::DaemonProcess;

const std::string kFixture = std::string(CW_SOURCE_DIR) + "/tests/fixtures/store_v1";

nlohmann::json golden_answers() {
  std::ifstream in(kFixture + "/answers.json");
  return nlohmann::json::parse(in);
}

// Fields the answers gained after the fixture was written, removed before
// comparing so the golden stays what the old daemon answered; each is
// tested on its own: `feature`'s top contexts' token_ids and tokens (the
// window decoded, tests/cli/decoded_contexts_daemon_test.cc), and
// `attribution`'s strengthened_step (tests/examples/tinygpt_daemon_test.cc),
// and the feature summaries' transient_step and their evidence's
// decoder_cosine_next (tests/cli/feature_summary_test.cc).
void erase_summary_fields(nlohmann::json& summary) {
  summary.erase("transient_step");
  if (summary.contains("emergence_evidence") && summary["emergence_evidence"].is_object())
    summary["emergence_evidence"].erase("decoder_cosine_next");
}

nlohmann::json without_added_fields(nlohmann::json answers) {
  for (auto& [name, answer] : answers.items()) {
    if (name.rfind("feature", 0) == 0 && answer.is_object()) {
      erase_summary_fields(answer);
      if (answer.contains("features") && answer["features"].is_array())
        for (auto& feature : answer["features"]) erase_summary_fields(feature);
    }
    if (name.rfind("attribution", 0) == 0 && answer.contains("snapshots") && answer.contains("features")) {
      for (auto& snapshot : answer["snapshots"])
        for (auto& top : snapshot["top"]) top.erase("strengthened_step");
      for (auto& feature : answer["features"]) feature.erase("strengthened_step");
    }
    if (name.rfind("feature ", 0) != 0 || !answer.contains("top_contexts")) continue;
    for (auto& context : answer["top_contexts"]) {
      context.erase("token_ids");
      context.erase("tokens");
    }
  }
  return answers;
}

// Each answer compared on its own, so a failure names the query and shows
// the JSON patch from the golden answer to this one.
void expect_golden(const nlohmann::json& current, const std::string& who) {
  const nlohmann::json answers = without_added_fields(current);
  const nlohmann::json golden = golden_answers();
  ASSERT_EQ(answers.size(), golden.size()) << who;
  for (const auto& [name, answer] : golden.items()) {
    ASSERT_TRUE(answers.contains(name)) << who << " did not answer " << name;
    EXPECT_EQ(answers[name], answer) << who << ", " << name << ": " << nlohmann::json::diff(answer, answers[name]).dump(1);
  }
}

// The stored format record and every value of the families the migration
// rewrites, read with the daemon stopped.
struct StoredAnalysis {
  StoreFormatInfo format;
  std::vector<std::string> values;  // family, key and value of each record
};

StoredAnalysis stored_analysis(const std::string& dir) {
  StoreOptions options;
  options.read_only = true;
  auto store = Store::open(dir, options);
  StoredAnalysis out{read_store_format(*store), {}};
  for (Family family : {Family::kMetrics, Family::kEvents, Family::kTransitions, Family::kTrajectories,
                        Family::kAttribution}) {
    store->scan(family, "", [&](std::string_view key, std::string_view value) {
      out.values.push_back(std::string(family_name(family)) + "|" + std::string(key) + "|" + std::string(value));
      return true;
    });
  }
  return out;
}

TEST(StoreMigration, TheDaemonAnswersAFormat1StoreAsTheDaemonThatWroteIt) {
  DaemonProcess daemon({"--config", kFixture + "/crosscoder.toml"});
  testing::copy_directory(kFixture + "/data", daemon.data_dir());
  ASSERT_EQ(stored_analysis(daemon.data_dir()).format.version, 1);
  daemon.start();
  testing::wait_until_workers_idle(daemon);
  expect_golden(testing::store_fixture_answers(daemon), "first open");
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  const StoredAnalysis migrated = stored_analysis(daemon.data_dir());
  EXPECT_EQ(migrated.format.version, Store::kFormat);
  EXPECT_EQ(migrated.format.migrated_from, 1);
  EXPECT_FALSE(migrated.values.empty());

  // A second open: nothing left to migrate, nothing rewritten, the same answers.
  daemon.start();
  testing::wait_until_workers_idle(daemon);
  expect_golden(testing::store_fixture_answers(daemon), "second open");
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  const StoredAnalysis reopened = stored_analysis(daemon.data_dir());
  EXPECT_EQ(reopened.format.migrated_unix_ms, migrated.format.migrated_unix_ms);
  EXPECT_TRUE(reopened.values == migrated.values) << "the second open changed stored values";
}

TEST(StoreMigration, TheReadOnlyCliPathAnswersAnUnmigratedStore) {
  testing::TempDir dir;
  testing::copy_directory(kFixture + "/data", dir.sub("data"));
  StoreOptions options;
  options.read_only = true;
  auto store = Store::open(dir.sub("data"), options);
  QueryHandler handler(*store);
  // As the daemon that wrote the fixture read emergences: activation
  // evidence was reported, not acted on, by default then (detect/emergence.h).
  EmergenceOptions emergence;
  emergence.activation_evidence = false;
  add_analysis_queries(handler, *store, emergence);
  // As the daemon's answers arrive: JSON text (a NaN reads as null).
  expect_golden(testing::store_fixture_answers([&](const std::string& command, const nlohmann::json& params) {
                  return nlohmann::json::parse(json_text(handler.answer(command, params)));
                }),
                "read-only store");
}

}  // namespace
}  // namespace cw
