// The store format (store/store_format.h): a new store is in the current
// format; a format 1 store (JSON text and ad-hoc binary values, no format
// record) reads as it is when opened read-only and is migrated, once and
// all at once, when opened read-write; documents read back as written;
// records and stores of a newer format are refused.
#include "store/store_format.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "schema/record_codec.h"
#include "store/analysis_tables.h"
#include "store/attribution_table.h"
#include "store/document_record.h"
#include "store/key_encoding.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

using testing::TempDir;

std::unique_ptr<Store> open_read_only(const std::string& dir) {
  StoreOptions options;
  options.read_only = true;
  return Store::open(dir, options);
}

// A store as format 1 left it: no format record, values written raw by `fill`.
void write_format1_store(const std::string& dir, const std::function<void(Store&)>& fill) {
  auto store = Store::open(dir);
  StoreBatch batch;
  batch.erase(Family::kMeta, "format");
  store->write(batch);
  fill(*store);
}

template <typename T>
void append(std::string* bytes, const T& value) {
  bytes->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Format 1 trajectory values: points of `point_bytes` (sizeof(FeaturePoint),
// flagged as sized; or the 40 bytes of the first layout, unflagged).
std::string format1_trajectory(const std::vector<FeaturePoint>& points, uint32_t point_bytes,
                               const std::vector<FeatureContext>& contexts) {
  std::string bytes;
  const bool sized = point_bytes == sizeof(FeaturePoint);
  append(&bytes, uint32_t(points.size()) | (sized ? 0x80000000u : 0u));
  if (sized) append(&bytes, point_bytes);
  for (const auto& point : points) bytes.append(reinterpret_cast<const char*>(&point), point_bytes);
  append(&bytes, uint32_t(contexts.size()));
  for (const auto& context : contexts) append(&bytes, context);
  return bytes;
}

FeaturePoint point(uint64_t step, float base) {
  FeaturePoint p;
  p.step = step;
  p.decoder_norm = base;
  p.normalised_norm = base / 2;
  p.frequency = 0.125f;
  p.mean_activation = base + 1;
  p.max_activation = base + 2;
  p.cos_previous = 0.5f;
  p.cos_latest = 0.75f;
  p.contextuality = 0.25f;
  p.activation_strength = base / 4;
  return p;
}

void expect_same_point(const FeaturePoint& a, const FeaturePoint& b, bool with_strength) {
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.decoder_norm, b.decoder_norm);
  EXPECT_EQ(a.normalised_norm, b.normalised_norm);
  EXPECT_EQ(a.frequency, b.frequency);
  EXPECT_EQ(a.mean_activation, b.mean_activation);
  EXPECT_EQ(a.max_activation, b.max_activation);
  EXPECT_EQ(a.cos_previous, b.cos_previous);
  EXPECT_EQ(a.cos_latest, b.cos_latest);
  EXPECT_EQ(a.contextuality, b.contextuality);
  if (with_strength) {
    EXPECT_EQ(a.activation_strength, b.activation_strength);
  } else {
    EXPECT_TRUE(std::isnan(b.activation_strength));
  }
}

const nlohmann::json kMetrics = {{"l0", 3.5}, {"dead_features", 0.25}, {"series", {{"surprise", 1.5}, {"phase", "x"}}}};
const nlohmann::json kEvent = {{"type", "feature_emerged"}, {"feature", 3}, {"step", 200}, {"seq", 1},
                               {"run", "run"},            {"tap", "tap"},  {"offset", -4}};
const nlohmann::json kTransitions = nlohmann::json::array({{{"transition", 0}, {"onset_step", 100}}});

// Every analysis family with format 1 values, including the older layouts
// of trajectories (40-byte points) and attribution (no linear totals).
void fill_format1(Store& store) {
  store.put(Family::kMetrics, KeyBuilder().text("run").text("tap").u64(100).str(), kMetrics.dump());
  store.put(Family::kEvents, KeyBuilder().text("run").u64(1).str(), kEvent.dump());
  store.put(Family::kTransitions, KeyBuilder().text("run").text("tap").str(), kTransitions.dump());
  store.put(Family::kTrajectories, KeyBuilder().text("run").text("tap").u32(0).str(),
            format1_trajectory({point(0, 1), point(100, 2)}, sizeof(FeaturePoint), {{7, 2.5f}, {9, 1.5f}}));
  store.put(Family::kTrajectories, KeyBuilder().text("run").text("tap").u32(1).str(),
            format1_trajectory({point(0, 3)}, 40, {}));
  std::string attribution;
  append(&attribution, uint32_t(2)), append(&attribution, uint32_t(3)), append(&attribution, uint64_t(99));
  append(&attribution, uint64_t(0)), append(&attribution, 0.5), append(&attribution, uint64_t(20));
  append(&attribution, 1.5);
  for (int i = 0; i < 6; ++i) append(&attribution, float(i));
  store.put(Family::kAttribution, KeyBuilder().text("run").text("tap").text("old").str(), attribution);
}

// What fill_format1 wrote, read through the tables, in either format.
void expect_format1_contents(Store& store) {
  const auto metrics = MetricsTable(store).list("run", "tap");
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].first, 100u);
  nlohmann::json expected = kMetrics;
  expected["dead_fraction"] = 0.25;  // MetricsTable adds the new key
  EXPECT_EQ(metrics[0].second, expected);
  const auto events = EventLog(store).list("run");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], kEvent);
  const auto transitions = TransitionTable(store).get("run", "tap");
  ASSERT_TRUE(transitions);
  EXPECT_EQ(*transitions, kTransitions);

  const auto trajectories = TrajectoryTable(store).list("run", "tap");
  ASSERT_EQ(trajectories.size(), 2u);
  ASSERT_EQ(trajectories[0].points.size(), 2u);
  expect_same_point(point(0, 1), trajectories[0].points[0], true);
  expect_same_point(point(100, 2), trajectories[0].points[1], true);
  ASSERT_EQ(trajectories[0].top_contexts.size(), 2u);
  EXPECT_EQ(trajectories[0].top_contexts[1].token_index, 9u);
  EXPECT_EQ(trajectories[0].top_contexts[1].activation, 1.5f);
  EXPECT_EQ(trajectories[1].feature, 1u);
  ASSERT_EQ(trajectories[1].points.size(), 1u);
  expect_same_point(point(0, 3), trajectories[1].points[0], false);

  const auto attribution = AttributionTable(store).get("run", "tap", "old");
  ASSERT_TRUE(attribution);
  EXPECT_EQ(attribution->steps, (std::vector<uint64_t>{0, 20}));
  EXPECT_EQ(attribution->metric, (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(attribution->n_features, 3u);
  EXPECT_EQ(attribution->computed_unix_ms, 99u);
  ASSERT_EQ(attribution->linear_total.size(), 2u);
  EXPECT_TRUE(std::isnan(attribution->linear_total[0]) && std::isnan(attribution->linear_total[1]));
  EXPECT_EQ(attribution->values, (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(StoreFormat, ANewStoreIsInTheCurrentFormat) {
  TempDir dir;
  {
    auto store = Store::open(dir.path());
    EXPECT_EQ(store->format(), Store::kFormat);
    EXPECT_EQ(store->migration().from_format, 0);
  }
  auto store = open_read_only(dir.path());
  EXPECT_EQ(store->format(), Store::kFormat);
  EXPECT_EQ(read_store_format(*store).migrated_from, 0);
}

TEST(StoreFormat, AFormat1StoreReadsAsItIsReadOnlyAndIsMigratedOnceReadWrite) {
  TempDir dir;
  write_format1_store(dir.path(), fill_format1);
  {
    auto store = open_read_only(dir.path());
    EXPECT_EQ(store->format(), 1);
    expect_format1_contents(*store);
  }
  {
    auto store = Store::open(dir.path());
    EXPECT_EQ(store->format(), Store::kFormat);
    EXPECT_EQ(store->migration().from_format, 1);
    EXPECT_EQ(store->migration().records, 6u);  // 1 metrics, 1 event, 1 transitions, 2 trajectories, 1 attribution
    expect_format1_contents(*store);
    // The values are records of the current format now.
    std::string value;
    ASSERT_TRUE(store->get(Family::kEvents, KeyBuilder().text("run").u64(1).str(), &value));
    EXPECT_EQ(decode_document_record(value, Store::kFormat), kEvent);
  }
  const StoreFormatInfo migrated = read_store_format(*open_read_only(dir.path()));
  EXPECT_EQ(migrated.version, Store::kFormat);
  EXPECT_EQ(migrated.migrated_from, 1);
  EXPECT_GT(migrated.migrated_unix_ms, 0u);
  // A second read-write open has nothing to do.
  auto store = Store::open(dir.path());
  EXPECT_EQ(store->migration().from_format, 0);
  EXPECT_EQ(read_store_format(*store).migrated_unix_ms, migrated.migrated_unix_ms);
  expect_format1_contents(*store);
}

TEST(StoreFormat, AMigrationThatCannotReadAValueChangesNothing) {
  TempDir dir;
  write_format1_store(dir.path(), [](Store& store) {
    fill_format1(store);
    store.put(Family::kEvents, KeyBuilder().text("run").u64(2).str(), "{not json");
  });
  try {
    Store::open(dir.path());
    FAIL() << "opened a store whose migration failed";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("events"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was changed"), std::string::npos) << e.what();
  }
  auto store = open_read_only(dir.path());
  EXPECT_EQ(store->format(), 1);
  std::string value;
  ASSERT_TRUE(store->get(Family::kMetrics, KeyBuilder().text("run").text("tap").u64(100).str(), &value));
  EXPECT_EQ(nlohmann::json::parse(value), kMetrics);
}

TEST(StoreFormat, DocumentsReadBackAsWritten) {
  nlohmann::json document = {
      {"unsigned", uint64_t(18446744073709551615ull)},
      {"negative", int64_t(-9223372036854775807ll)},
      {"signed", int64_t(5)},
      {"float", 0.1},
      {"whole float", 2.0},
      {"nan", NAN},
      {"text", std::string("a\0b \xff", 5)},
      {"empty", nlohmann::json::object()},
      {"list", nlohmann::json::array({nullptr, true, false, nlohmann::json::array(), "x"})},
      {"nested", {{"a", {{"b", {1, 2, 3}}}}}}};
  const nlohmann::json read = decode_document_record(encode_document_record(document), Store::kFormat);
  document["nan"] = nullptr;  // as JSON text would have it
  EXPECT_EQ(read, document);
  EXPECT_EQ(read.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
            document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  EXPECT_TRUE(read["unsigned"].is_number_unsigned());
  EXPECT_TRUE(read["signed"].is_number_integer() && !read["signed"].is_number_unsigned());
  EXPECT_TRUE(read["whole float"].is_number_float());
  EXPECT_EQ(decode_document_record(encode_document_record(nlohmann::json::array()), Store::kFormat),
            nlohmann::json::array());
}

TEST(StoreFormat, RecordsAndStoresOfANewerFormatAreRefused) {
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::DocumentRecord>();
  record.setVersion(Store::kFormat + 1);
  record.initDocument().setText("from the future");
  try {
    decode_document_record(encode_message_bytes(builder), Store::kFormat);
    FAIL() << "read a record of a newer format";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this conceptwatch reads"), std::string::npos) << e.what();
  }

  TempDir dir;
  {
    auto store = Store::open(dir.path());
    capnp::MallocMessageBuilder format;
    format.initRoot<wire::StoreFormatRecord>().setVersion(Store::kFormat + 1);
    store->put(Family::kMeta, "format", encode_message_bytes(format));
  }
  EXPECT_THROW(Store::open(dir.path()), StoreError);
  EXPECT_THROW(open_read_only(dir.path()), StoreError);
}

}  // namespace
}  // namespace cw
