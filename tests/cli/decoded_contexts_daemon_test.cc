// Top contexts through the real daemon and the CLI process: a run that
// declares a vocabulary in its Hello (characters, as tinygpt's KJV run)
// gets its contexts back as decoded text, in `feature --json` (text, the
// window's token_ids and their decoded tokens), in `features`' top context
// and in `conceptwatch feature`'s text output.
#include <gtest/gtest.h>

#include "hooks/publisher.h"
#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

TEST(DecodedContexts, ARunsVocabularyDecodesItsTopContextsEverywhere) {
  testing::TempDir dir;
  testing::DaemonProcess daemon({"--config", testing::write_crosscoder_config(
                                                 dir, "n_features = 32\nsteps_per_update = 20\nthreads = 1\n")});
  daemon.start();
  RunDescription run = testing::make_run("chars", {"resid"}, 16, 512);
  for (char c = 'a'; c <= 'z'; ++c) run.probe.vocabulary.push_back(std::string(1, c));
  run.probe.vocabulary.push_back(" ");
  for (auto& id : run.probe.token_ids) id %= uint32_t(run.probe.vocabulary.size());
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  {
    Publisher publisher(run, options);
    for (uint64_t step : {0, 10}) {
      const auto data = testing::random_activations(testing::array_seed("resid", step), 512 * 16);
      ASSERT_TRUE(publisher.publish(testing::probe_meta(run, "resid", step, data), data.data()));
    }
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(30))) << publisher.stats().last_error;
  }
  testing::wait_for_crosscoder(daemon, "chars", 2, std::chrono::seconds(60));

  // A feature with top contexts (on random data most have some).
  nlohmann::json feature;
  const auto features = daemon.query("features", {{"run", "chars"}, {"filter", "all"}, {"limit", 0}});
  for (const auto& row : features["features"]) {
    if (!row.contains("top_context")) continue;
    feature = daemon.query("feature", {{"run", "chars"}, {"id", row["feature"]}});
    EXPECT_EQ(row["top_context"], feature["top_contexts"][0]["text"]);
    break;
  }
  ASSERT_FALSE(feature.is_null()) << "no feature has top contexts: " << features.dump().substr(0, 2000);
  for (const auto& context : feature["top_contexts"]) {
    const auto ids = context["token_ids"].get<std::vector<uint32_t>>();
    const auto tokens = context["tokens"].get<std::vector<std::string>>();
    ASSERT_FALSE(ids.empty()) << context.dump();
    ASSERT_EQ(ids.size(), tokens.size());
    EXPECT_EQ(ids.back(), run.probe.token_ids[context["token_index"].get<uint32_t>()]);
    std::string expected;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(tokens[i], run.probe.vocabulary[ids[i]]);
      expected += i + 1 == ids.size() ? "\u00ab" + tokens[i] + "\u00bb" : tokens[i];  // characters, joined as they are
    }
    EXPECT_EQ(context["text"], expected);
  }
  // The CLI's text output prints the decoded text too, and --json the same
  // fields as the query.
  const std::string id = std::to_string(feature["feature"].get<int>());
  const std::string text = testing::cli_output(daemon, "feature " + id + " --run chars");
  EXPECT_NE(text.find(feature["top_contexts"][0]["text"].get<std::string>()), std::string::npos) << text;
  const auto json = nlohmann::json::parse(testing::cli_output(daemon, "--json feature " + id + " --run chars"));
  EXPECT_EQ(json["top_contexts"], feature["top_contexts"]);
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
