#include "daemon/alerting/alert_book.h"

#include <gtest/gtest.h>

#include "tests/alerting/alert_test_util.h"

namespace cw {
namespace {

TEST(AlertBook, SameLabelsNotifyOnceAndResolveOnce) {
  std::vector<Alert> sent;
  AlertBook book([&sent](const Alert& alert) { sent.push_back(alert); });
  Alert alert = testing::make_alert();
  EXPECT_TRUE(book.raise(alert));
  alert.annotations["summary"] = "raised again by the next check";
  EXPECT_FALSE(book.raise(alert));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, AlertStatus::kFiring);
  EXPECT_EQ(sent[0].annotations.at("summary"), "feature 17 emerged");
  EXPECT_TRUE(book.is_firing(alert.labels));
  ASSERT_EQ(book.active().size(), 1u);

  AlertTime ended = alert.starts_at + std::chrono::seconds(90);
  EXPECT_TRUE(book.resolve(alert.labels, ended));
  EXPECT_FALSE(book.resolve(alert.labels, ended));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].status, AlertStatus::kResolved);
  EXPECT_EQ(sent[1].ends_at, ended);
  EXPECT_EQ(sent[1].starts_at, alert.starts_at);
  EXPECT_EQ(alert_to_json(sent[1])["endsAt"], "2023-11-14T22:14:50.123Z");
  EXPECT_TRUE(book.active().empty());

  // After resolution the same condition can fire again.
  EXPECT_TRUE(book.raise(alert));
  EXPECT_EQ(sent.size(), 3u);
}

TEST(AlertBook, DifferentLabelSetsAreDifferentAlerts) {
  int notified = 0;
  AlertBook book([&notified](const Alert&) { ++notified; });
  EXPECT_TRUE(book.raise(testing::make_alert("FeatureEmerged", "blocks.0.resid_post")));
  EXPECT_TRUE(book.raise(testing::make_alert("FeatureEmerged", "blocks.1.resid_post")));
  EXPECT_TRUE(book.raise(testing::make_alert("PhaseTransition", "blocks.1.resid_post")));
  EXPECT_EQ(notified, 3);
  EXPECT_EQ(book.active().size(), 3u);
}

TEST(AlertBook, RefusesAlertsWithoutIdentity) {
  AlertBook book([](const Alert&) {});
  Alert alert = testing::make_alert();
  alert.labels.erase("severity");
  EXPECT_THROW(book.raise(alert), std::invalid_argument);
  EXPECT_TRUE(book.active().empty());
}

TEST(AlertBook, UnsetStartTimeBecomesNow) {
  std::vector<Alert> sent;
  AlertBook book([&sent](const Alert& alert) { sent.push_back(alert); });
  Alert alert = testing::make_alert();
  alert.starts_at = AlertTime{};
  auto before = std::chrono::system_clock::now();
  book.raise(alert);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_GE(sent[0].starts_at, before);
}

}  // namespace
}  // namespace cw
