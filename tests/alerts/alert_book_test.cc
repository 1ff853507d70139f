#include "alerts/alert_book.h"

#include <gtest/gtest.h>

#include <vector>

namespace cw {
namespace {

Alert emergence(const std::string& tap) {
  Alert alert;
  alert.labels = {{"alertname", "FeatureEmerged"}, {"run", "r1"}, {"tap", tap},
                  {"detector", "emergence"}, {"severity", "info"}};
  alert.annotations = {{"summary", "feature 17 emerged"}, {"alarm_step", "1200"}};
  return alert;
}

TEST(AlertBook, SameLabelSetNotifiesOnceAndUpdatesAnnotations) {
  std::vector<Alert> sent;
  AlertBook book([&sent](const Alert& alert) { sent.push_back(alert); });

  EXPECT_TRUE(book.raise(emergence("blocks.6")));
  Alert again = emergence("blocks.6");
  again.annotations["alarm_step"] = "1400";
  EXPECT_FALSE(book.raise(again));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, AlertStatus::kFiring);
  EXPECT_NE(sent[0].starts_at, AlertTime{});  // stamped with now

  ASSERT_EQ(book.active().size(), 1u);
  EXPECT_EQ(book.active()[0].annotations.at("alarm_step"), "1400");
  EXPECT_EQ(book.active()[0].starts_at, sent[0].starts_at);  // the first raise's start is kept

  // A different label set is a different alert.
  EXPECT_TRUE(book.raise(emergence("blocks.7")));
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(book.active().size(), 2u);
}

TEST(AlertBook, ResolveNotifiesOnceWithEndsAt) {
  std::vector<Alert> sent;
  AlertBook book([&sent](const Alert& alert) { sent.push_back(alert); });
  book.raise(emergence("blocks.6"));
  AlertTime end = parse_rfc3339("2030-01-01T00:00:00Z");

  EXPECT_TRUE(book.resolve(emergence("blocks.6").labels, end));
  EXPECT_FALSE(book.resolve(emergence("blocks.6").labels, end));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].status, AlertStatus::kResolved);
  ASSERT_TRUE(sent[1].ends_at.has_value());
  EXPECT_EQ(*sent[1].ends_at, end);
  EXPECT_EQ(sent[1].fingerprint(), sent[0].fingerprint());
  EXPECT_EQ(alert_to_json(sent[1])["endsAt"], "2030-01-01T00:00:00.000Z");
  EXPECT_TRUE(book.active().empty());
  EXPECT_FALSE(book.is_firing(emergence("blocks.6").labels));

  // Firing again after resolution is a new alert and notifies again.
  EXPECT_TRUE(book.raise(emergence("blocks.6")));
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].status, AlertStatus::kFiring);
}

TEST(AlertBook, RefusesAlertsWithoutTheRequiredLabels) {
  std::vector<Alert> sent;
  AlertBook book([&sent](const Alert& alert) { sent.push_back(alert); });
  Alert alert = emergence("blocks.6");
  alert.labels.erase("severity");
  EXPECT_THROW(book.raise(alert), std::invalid_argument);
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace cw
