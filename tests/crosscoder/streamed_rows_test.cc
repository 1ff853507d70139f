// A streamed crosscoder (rows read from a RowSource on demand) trains the
// same trajectory as the in-memory one, and never asks for more than a
// batch or an analysis chunk of rows at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "crosscoder/crosscoder.h"
#include "tests/crosscoder/small_crosscoder.h"

namespace cw {
namespace {

// The planted activations as a RowSource, recording the largest read.
class VectorRows : public RowSource {
 public:
  VectorRows(const PlantedDictionary& p, int64_t d) : p_(p), d_(d) {}
  int64_t n_snapshots() const override { return available; }
  int64_t n_tokens() const override { return int64_t(p_.activations[0].size()) / d_; }
  int64_t d_model() const override { return d_; }
  void read_rows(int64_t t, const int64_t* rows, int64_t count, float* out) const override {
    largest = std::max(largest, count);
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(out + i * d_, p_.activations[size_t(t)].data() + rows[i] * d_, size_t(d_) * sizeof(float));
  }
  void read_range(int64_t t, int64_t begin, int64_t end, float* out) const override {
    largest = std::max(largest, end - begin);
    std::memcpy(out, p_.activations[size_t(t)].data() + begin * d_, size_t((end - begin) * d_) * sizeof(float));
  }
  int64_t available = 0;
  mutable int64_t largest = 0;

 private:
  const PlantedDictionary& p_;
  int64_t d_;
};

void expect_streamed_trains_as_in_memory(const CrosscoderOptions& options) {
  const auto planted = small_planted();
  const int64_t n = int64_t(planted.activations[0].size()) / options.d_model;
  Crosscoder memory(options), streamed(options);
  auto source = std::make_shared<VectorRows>(planted, options.d_model);
  streamed.stream_from(source);
  for (size_t t = 0; t < planted.activations.size(); ++t) {
    memory.add_snapshot(100 * (t + 1), planted.activations[t].data(), n);
    source->available = int64_t(t + 1);
    streamed.add_streamed_snapshot(100 * (t + 1));
    EXPECT_EQ(memory.measure_arrivals().at(0).mse, streamed.measure_arrivals().at(0).mse) << "snapshot " << t;
    const auto a = memory.train(), b = streamed.train();
    EXPECT_EQ(a.first_loss, b.first_loss) << "snapshot " << t;
    EXPECT_EQ(a.last_loss, b.last_loss) << "snapshot " << t;
    EXPECT_EQ(a.recruited, b.recruited);
    EXPECT_EQ(a.merged, b.merged);
  }
  EXPECT_TRUE(streamed.streamed());
  EXPECT_FALSE(memory.streamed());
  for (int64_t t = 0; t < memory.n_snapshots(); ++t)
    EXPECT_EQ(memory.decoder_directions(t), streamed.decoder_directions(t)) << "snapshot " << t;
  // The exact-resume state (weights, Adam, scales, RNG) is the same bytes.
  EXPECT_EQ(memory.serialize(), streamed.serialize());
  const auto em = memory.evaluate(), es = streamed.evaluate();
  for (size_t t = 0; t < em.size(); ++t) EXPECT_EQ(em[t].mse, es[t].mse);
  EXPECT_EQ(memory.activation_strength().size(), streamed.activation_strength().size());
  // A batch at most: the source is never read whole.
  EXPECT_LE(source->largest, std::max<int64_t>(options.batch_size, n));
}

TEST(StreamedRows, TrainsTheSameTrajectoryAsInMemoryBitForBit) { expect_streamed_trains_as_in_memory(small_options()); }

TEST(StreamedRows, TokenWiseTrainsTheSameTrajectoryAsInMemoryBitForBit) {
  auto options = small_options();
  options.normalisation = "token";
  expect_streamed_trains_as_in_memory(options);
}

TEST(StreamedRows, AResumedCrosscoderStreamsAsTheRestoredOneTrains) {
  const auto planted = small_planted();
  const auto options = small_options();
  const int64_t n = int64_t(planted.activations[0].size()) / options.d_model;
  Crosscoder first(options);
  for (int64_t t = 0; t < 2; ++t) {
    first.add_snapshot(uint64_t(t + 1), planted.activations[size_t(t)].data(), n);
    first.train();
  }
  const std::string state = first.serialize();
  Crosscoder restored = Crosscoder::deserialize(state), streamed = Crosscoder::deserialize(state);
  for (int64_t t = 0; t < 2; ++t) restored.restore_activations(t, planted.activations[size_t(t)].data(), n);
  auto source = std::make_shared<VectorRows>(planted, options.d_model);
  source->available = 2;
  streamed.stream_from(source);
  EXPECT_THROW(streamed.restore_activations(0, planted.activations[0].data(), n), std::logic_error);
  EXPECT_THROW(streamed.add_snapshot(3, planted.activations[2].data(), n), std::logic_error);
  EXPECT_THROW(streamed.add_streamed_snapshot(3), std::logic_error);  // the source lacks it
  restored.add_snapshot(3, planted.activations[2].data(), n);
  source->available = 3;
  streamed.add_streamed_snapshot(3);
  const auto a = restored.train(), b = streamed.train();
  EXPECT_EQ(a.last_loss, b.last_loss);
  EXPECT_EQ(restored.serialize(), streamed.serialize());
}

// d_model above n_features: a streamed analysis pass takes fewer rows at a
// time (its [rows, T, d] input is bounded too), so sums over the probe set
// may differ in their last bits; training batches are the same rows.
TEST(StreamedRows, WithDModelAboveTheFeaturesTrainsOnTheSameBatches) {
  const auto planted = small_planted();
  auto options = small_options();
  options.n_features = 4;
  const int64_t n = int64_t(planted.activations[0].size()) / options.d_model;
  Crosscoder memory(options), streamed(options);
  auto source = std::make_shared<VectorRows>(planted, options.d_model);
  source->available = 1;
  streamed.stream_from(source);
  memory.add_snapshot(1, planted.activations[0].data(), n);
  streamed.add_streamed_snapshot(1);
  const auto a = memory.train(), b = streamed.train();
  EXPECT_EQ(a.first_loss, b.first_loss);
  EXPECT_NEAR(memory.evaluate()[0].mse, streamed.evaluate()[0].mse, 1e-6 * (1 + memory.evaluate()[0].mse));
}

}  // namespace
}  // namespace cw
