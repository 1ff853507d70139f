// The size-aware sparsity default: the paper's λ at the paper's size, less
// for small dictionaries, resolved when a crosscoder is built.
#include "crosscoder/sparsity_default.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "crosscoder/crosscoder.h"

namespace cw {
namespace {

TEST(SparsityDefault, ThePapersLambdaAtThePapersSize) {
  // Pythia-160M's d_model 768 with 32k and 98k features: 0.3 within 10%.
  EXPECT_NEAR(auto_sparsity_lambda(768, 32768), 0.3, 0.03);
  EXPECT_NEAR(auto_sparsity_lambda(768, 98304), 0.3, 0.03);
}

TEST(SparsityDefault, SmallerForSmallDictionaries) {
  // More features per dimension: each fires on fewer tokens, the quadratic
  // term weighs less, λ comes back up towards the paper's.
  EXPECT_LT(auto_sparsity_lambda(32, 64), auto_sparsity_lambda(32, 256));
  EXPECT_LT(auto_sparsity_lambda(256, 1024), auto_sparsity_lambda(256, 4096));
  EXPECT_LT(auto_sparsity_lambda(256, 4096), 0.3);
  // The daemon's default dictionary, 8 × d_model, gets the same λ at every width.
  EXPECT_DOUBLE_EQ(auto_sparsity_lambda(64, 512), auto_sparsity_lambda(256, 2048));
  EXPECT_THROW(auto_sparsity_lambda(0, 64), std::invalid_argument);
  EXPECT_THROW(auto_sparsity_lambda(32, -1), std::invalid_argument);
}

TEST(SparsityDefault, ResolvedWhenTheCrosscoderIsBuilt) {
  CrosscoderOptions o;
  o.d_model = 32;
  o.n_features = 64;
  o.sparsity_lambda = kAutoSparsityLambda;
  EXPECT_DOUBLE_EQ(Crosscoder(o).options().sparsity_lambda, auto_sparsity_lambda(32, 64));
  o.sparsity_lambda = 0.02;
  EXPECT_DOUBLE_EQ(Crosscoder(o).options().sparsity_lambda, 0.02);
}

}  // namespace
}  // namespace cw
