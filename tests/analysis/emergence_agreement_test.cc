#include "analysis/emergence_agreement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "made_up_analysis.h"

namespace cw {
namespace {

// Two unit rows in d_model 2 at an angle whose cosine is `cosine` to (1, 0).
std::vector<float> row_at(double cosine) { return {float(cosine), float(std::sqrt(1 - cosine * cosine))}; }

std::vector<float> rows(const std::vector<std::vector<float>>& each) {
  std::vector<float> out;
  for (const auto& r : each) out.insert(out.end(), r.begin(), r.end());
  return out;
}

TEST(EmergenceAgreement, DatesWithinOneSnapshotAgreeAndTwoApartDoNot) {
  // Online: present from 0; emerges at 2; emerges at 2; never present.
  const auto online = analysis_of({{1, 1, 1, 1, 1}, {0.1f, 0.1f, 1, 1, 1}, {0.1f, 0.1f, 1, 1, 1}, {0.1f, 0.1f, 0.1f, 0.1f, 1}},
                                  {false, false, false, false});
  // Offline: present from 0; emerges at 3 (one later); emerges at 4 (two
  // later); the fourth also emerges at 4.
  const auto offline = analysis_of({{1, 1, 1, 1, 1}, {0.1f, 0.1f, 0.1f, 1, 1}, {0.1f, 0.1f, 0.1f, 0.1f, 1}, {0.1f, 0.1f, 0.1f, 0.1f, 1}},
                                   {false, false, false, false});
  // Feature i matched to offline feature i: rows along orthogonal axes in d 4.
  const std::vector<float> identity = rows({{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}});
  const EmergenceAgreement a = emergence_agreement({&online, &identity}, {&offline, &identity});
  ASSERT_EQ(a.matched.size(), 4u);
  EXPECT_EQ(a.live, 4u);
  EXPECT_TRUE(a.matched[0].agrees);   // both at 0
  EXPECT_EQ(*a.matched[0].first, 0u);
  EXPECT_TRUE(a.matched[1].agrees);   // 2 vs 3
  EXPECT_FALSE(a.matched[2].agrees);  // 2 vs 4
  // The last online one emerges at 4 (the threshold is reached there).
  EXPECT_EQ(*a.matched[3].first, 4u);
  EXPECT_TRUE(a.matched[3].agrees);
  EXPECT_EQ(a.agreeing, 3u);
  EXPECT_DOUBLE_EQ(a.share(), 0.75);
}

TEST(EmergenceAgreement, ClaimsCompareTheLatestEraWhereFirstPresenceComparesTheFirst) {
  // Online: a latent present at 0, gone at 1-2, back at 3 (`features` claims
  // it emerged at 3: re-emerged); one present throughout (claimed 0); one
  // that emerges at 2 and fades at 4 (claimed 2). Offline: the first one
  // emerges at 3 only; the other two as online.
  const auto online = analysis_of({{1, 0.1f, 0.1f, 1, 1}, {1, 1, 1, 1, 1}, {0.1f, 0.1f, 1, 1, 0.1f}},
                                  {false, false, false});
  const auto offline = analysis_of({{0.1f, 0.1f, 0.1f, 1, 1}, {1, 1, 1, 1, 1}, {0.1f, 0.1f, 1, 1, 0.1f}},
                                   {false, false, false});
  const std::vector<float> identity = rows({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
  const EmergenceAgreement a = emergence_agreement({&online, &identity}, {&offline, &identity});
  ASSERT_EQ(a.matched.size(), 3u);
  EXPECT_EQ(*a.matched[0].first, 0u);
  EXPECT_EQ(*a.matched[0].claimed, 3u);
  EXPECT_EQ(*a.matched[0].other_claimed, 3u);
  EXPECT_FALSE(a.matched[0].agrees);  // 0 vs 3
  EXPECT_TRUE(a.matched[0].claims_agree);
  EXPECT_EQ(*a.matched[1].claimed, 0u);  // initially present, never gone
  EXPECT_EQ(*a.matched[2].claimed, 2u);  // a fade does not move the claim
  EXPECT_EQ(a.agreeing, 2u);
  EXPECT_EQ(a.claims_agreeing, 3u);
  EXPECT_DOUBLE_EQ(a.claims_share(), 1.0);
}

TEST(EmergenceAgreement, AFeatureIsMatchedOnlyAtTheMinimumCosine) {
  const auto one = analysis_of({{1, 1, 1}}, {false});
  const std::vector<float> axis = rows({{1, 0}});
  const std::vector<float> close = row_at(0.81), far = row_at(0.79);
  EXPECT_EQ(emergence_agreement({&one, &axis}, {&one, &close}).matched.size(), 1u);
  EXPECT_EQ(emergence_agreement({&one, &axis}, {&one, &far}).matched.size(), 0u);
  // Scale does not matter, only direction.
  const std::vector<float> long_close = {0.81f * 7, float(std::sqrt(1 - 0.81 * 0.81)) * 7};
  EXPECT_EQ(emergence_agreement({&one, &axis}, {&one, &long_close}).matched.size(), 1u);
}

TEST(EmergenceAgreement, EachFeatureOfTheSecondIsMatchedOnceClosestFirst) {
  // Online features 0 and 1 are both nearest offline feature 0 (cosines 0.95
  // and 0.99); offline feature 1 is at 0.89 to online 0 and 0.69 to online 1.
  const auto online = analysis_of({{1, 1}, {1, 1}}, {false, false});
  const auto offline = analysis_of({{1, 1}, {1, 1}}, {false, false});
  const double s95 = std::sqrt(1 - 0.95 * 0.95), s99 = std::sqrt(1 - 0.99 * 0.99);
  const double y = std::sqrt(1 - 0.7 * 0.7);
  const std::vector<float> online_rows = rows({{0.95f, float(s95), 0}, {0.99f, 0, float(s99)}});
  const std::vector<float> offline_rows = rows({{1, 0, 0}, {0.7f, float(y), 0}});
  const EmergenceAgreement one = emergence_agreement({&online, &online_rows}, {&offline, &offline_rows});
  ASSERT_EQ(one.matched.size(), 2u);
  EXPECT_EQ(one.matched[0].other, 1u);  // offline 0 went to the closer online 1
  EXPECT_NEAR(one.matched[0].cosine, 0.95 * 0.7 + s95 * y, 1e-6);
  EXPECT_EQ(one.matched[1].other, 0u);
  EXPECT_NEAR(one.matched[1].cosine, 0.99, 1e-6);
  AgreementOptions shared;
  shared.one_to_one = false;
  const EmergenceAgreement many = emergence_agreement({&online, &online_rows}, {&offline, &offline_rows}, shared);
  ASSERT_EQ(many.matched.size(), 2u);
  EXPECT_EQ(many.matched[0].other, 0u);
  EXPECT_EQ(many.matched[1].other, 0u);
}

TEST(EmergenceAgreement, DeadFeaturesAreNeitherCountedNorMatched) {
  const auto online = analysis_of({{1, 1}, {1, 1}}, {false, true});
  const auto offline = analysis_of({{1, 1}, {1, 1}}, {true, false});
  const std::vector<float> same = rows({{1, 0}, {1, 0}});
  const EmergenceAgreement a = emergence_agreement({&online, &same}, {&offline, &same});
  EXPECT_EQ(a.live, 1u);
  ASSERT_EQ(a.matched.size(), 1u);
  EXPECT_EQ(a.matched[0].other, 1u);  // the live one, though the dead one is as close
}

TEST(EmergenceAgreement, RefusesCrosscodersOverDifferentSnapshots) {
  const auto three = analysis_of({{1, 1, 1}}, {false});
  const auto two = analysis_of({{1, 1}}, {false});
  const std::vector<float> axis = rows({{1, 0}});
  EXPECT_THROW(emergence_agreement({&three, &axis}, {&two, &axis}), std::invalid_argument);
}

}  // namespace
}  // namespace cw
