// Crosscoder::attributions (every snapshot in one forward, in row chunks)
// against Crosscoder::attribution at each snapshot, which is tested against
// autograd in crosscoder_test.cc.
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "crosscoder/crosscoder.h"
#include "examples/planted/planted_dictionary.h"

namespace cw {
namespace {

TEST(CrosscoderAttributions, EverySnapshotAtOnceEqualsOneSnapshotAtATime) {
  PlantedOptions po;
  po.d_model = 16;
  po.n_atoms = 16;
  po.n_snapshots = 3;
  po.n_tokens = 1200;
  po.seed = 4;
  const auto p = make_planted_dictionary(po);
  CrosscoderOptions o;
  o.d_model = 16;
  // T × F large enough that the 1,200 rows are split into chunks (4M / (T F) = 341 rows).
  o.n_features = 4096;
  o.batch_size = 64;
  o.steps_per_update = 5;
  o.seed = 6;
  Crosscoder cc(o);
  std::vector<const float*> raw;
  for (int64_t t = 0; t < 3; ++t) {
    cc.add_snapshot(uint64_t(t), p.activations[t].data(), po.n_tokens);
    cc.train();
    raw.push_back(p.activations[t].data());
  }
  torch::manual_seed(2);
  std::vector<torch::Tensor> g;
  std::vector<const float*> gradients;
  for (int64_t t = 0; t < 3; ++t) {
    g.push_back(torch::randn({po.n_tokens, 16}).contiguous());
    gradients.push_back(g.back().data_ptr<float>());
  }
  const auto all = cc.attributions(raw, gradients, po.n_tokens);
  ASSERT_EQ(all.size(), std::size_t(3 * 4096));
  double nonzero = 0;
  for (int64_t t = 0; t < 3; ++t) {
    const auto one = cc.attribution(raw, gradients[t], po.n_tokens, t);
    for (int64_t i = 0; i < 4096; ++i) {
      ASSERT_NEAR(all[t * 4096 + i], one[i], 1e-4 * (1 + std::abs(one[i]))) << "snapshot " << t << " feature " << i;
      nonzero += one[i] != 0;
    }
  }
  EXPECT_GT(nonzero, 100);
  EXPECT_THROW(cc.attributions(raw, {gradients[0]}, po.n_tokens), std::invalid_argument);
}

}  // namespace
}  // namespace cw
