// Top contexts as the `feature` and `features` queries show them: decoded
// with the run's vocabulary (Hello's), ids beside the text.
#include "query/feature_summary.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

ProbeSet probe(std::vector<std::string> vocabulary) {
  ProbeSet p;
  p.sequence_length = 4;
  p.token_ids = {0, 1, 2, 3, 3, 2, 1, 0};  // two sequences of 4
  p.vocabulary = std::move(vocabulary);
  return p;
}

TEST(ProbeContext, TextFragmentsAreJoinedAsTheyAre) {
  const ProbeContext c = probe_context(probe({"I", "n", " the", "\n"}), 7);
  EXPECT_EQ(c.token_ids, (std::vector<uint32_t>{3, 2, 1, 0}));  // its own sequence only
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"\n", " the", "n", "I"}));
  EXPECT_EQ(c.text, "\\n then\u00abI\u00bb");
  EXPECT_EQ(context_text(probe({"I", "n", " the", "\n"}), 2, 1), "n\u00ab the\u00bb");  // one before
}

TEST(ProbeContext, PlaceholderNamesAndBareIdsAreSpaced) {
  // tinygpt's synthetic repeat task names its tokens t0, t1, ...
  EXPECT_EQ(context_text(probe({"t0", "t1", "t2", "t3"}), 3), "t0 t1 t2 \u00abt3\u00bb");
  EXPECT_EQ(context_text(probe({}), 6), "<3> <2> \u00ab<1>\u00bb");
  // One entry that is text makes the vocabulary text.
  EXPECT_EQ(context_text(probe({"t0", "t1", "t2", "x"}), 3), "t0t1t2\u00abx\u00bb");
  // An id beyond a short vocabulary still reads as itself.
  EXPECT_EQ(probe_context(probe({"a", "b"}), 3).tokens, (std::vector<std::string>{"a", "b", "<2>", "<3>"}));
  EXPECT_EQ(probe_context(probe({"a"}), 99).text, "");  // outside the probe set
}

}  // namespace
}  // namespace cw
