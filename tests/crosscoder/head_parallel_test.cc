// Head-parallel training step (crosscoder/head_group.h): the heads of one
// crosscoder split over 2 and 4 processes that sum through c10d's Gloo
// group over loopback give the one-process step's loss and gradients.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>
#include <torch/serialize.h>
#include <torch/utils.h>

#include "crosscoder/compute_threads.h"
#include "crosscoder/gloo_head_group.h"
#include "crosscoder/training_step.h"
#include "tests/crosscoder/random_params.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace cw {
namespace {

constexpr int64_t kHeads = 4, kWidth = 8, kFeatures = 48, kRows = 96;

LossConstants constants() {
  LossConstants c;
  c.lambda = 0.3;
  c.window = 4.0;
  return c;
}

torch::Tensor batch() {
  torch::manual_seed(11);
  return torch::randn({kRows, kHeads, kWidth}, torch::kDouble);
}

// Heads [first, first + n) of p, with the replicated log τ.
CrosscoderParams block_of(const CrosscoderParams& p, int64_t first, int64_t n) {
  return {p.w_enc.narrow(1, first * kWidth, n * kWidth).contiguous(), p.w_dec.narrow(0, first, n).contiguous(),
          p.b_enc.narrow(0, first, n).contiguous(), p.b_dec.narrow(0, first, n).contiguous(), p.log_tau.clone()};
}

// One rank: its block of the step, written to `out` as [loss, mse,
// sparsity, grads...]. Runs in a forked child: one thread (the parent's
// OpenMP pool does not survive fork), exit status 0 when written.
int run_rank(int rank, int world, int port, const std::string& out) {
  try {
    set_compute_threads(1);
    const int64_t n = kHeads / world, first = rank * n;
    const auto p = block_of(random_params(kHeads, kWidth, kFeatures, torch::kDouble, 5), first, n);
    const auto x = batch().narrow(1, first, n);
    auto group = join_gloo_head_group({"127.0.0.1", port, rank, world, std::chrono::seconds(30)});
    StepContext context;
    context.group = group.get();
    StepResult r = sparse_step(p, x, constants(), context);
    std::vector<torch::Tensor> saved{torch::tensor({r.loss, r.mse, r.sparsity}, torch::kDouble)};
    for (auto* t : r.grad.all()) saved.push_back(*t);
    saved.push_back(torch::tensor({double(group->bytes_summed())}, torch::kDouble));
    torch::save(saved, out);
    return 0;
  } catch (const std::exception& e) {
    fprintf(stderr, "rank %d: %s\n", rank, e.what());
    return 1;
  }
}

void expect_ranks_equal_one_process(int world) {
  testing::TempDir dir;
  const int port = testing::free_port();
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(run_rank(rank, world, port, dir.sub("rank" + std::to_string(rank))));
    ranks.push_back(pid);
  }
  for (int rank = 0; rank < world; ++rank) {
    int status = 0;
    ASSERT_EQ(waitpid(ranks[rank], &status, 0), ranks[rank]);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank " << rank << " failed";
  }
  const auto p = random_params(kHeads, kWidth, kFeatures, torch::kDouble, 5);
  const StepResult whole = sparse_step(p, batch(), constants());
  ASSERT_GT(whole.sparsity, 0);
  const int64_t n = kHeads / world;
  for (int rank = 0; rank < world; ++rank) {
    std::vector<torch::Tensor> saved;
    torch::load(saved, dir.sub("rank" + std::to_string(rank)));
    ASSERT_EQ(saved.size(), 7u);
    EXPECT_NEAR(saved[0][0].item<double>(), whole.loss, 1e-12 * whole.loss) << "rank " << rank;
    EXPECT_NEAR(saved[0][1].item<double>(), whole.mse, 1e-12 * whole.mse) << "rank " << rank;
    EXPECT_NEAR(saved[0][2].item<double>(), whole.sparsity, 1e-12 * whole.sparsity) << "rank " << rank;
    const CrosscoderParams grad{saved[1], saved[2], saved[3], saved[4], saved[5]};
    SCOPED_TRACE("rank " + std::to_string(rank) + " of " + std::to_string(world));
    expect_close(grad, block_of(whole.grad, rank * n, n), 1e-10, 1e-14);
    // h and dH ([B, F] each) dominate what a step sums.
    EXPECT_GE(saved[6][0].item<double>(), 2.0 * kRows * kFeatures * 8);
  }
}

// A rank that dies between steps: the survivor's next step fails with an
// error that names the group, within the group's timeout, rather than hang.
TEST(HeadParallel, AStepFailsCleanlyWhenARankIsGone) {
  const int port = testing::free_port();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    set_compute_threads(1);
    auto group = join_gloo_head_group({"127.0.0.1", port, 1, 2, std::chrono::seconds(30)});
    _exit(0);  // gone before the first sum
  }
  set_compute_threads(1);
  const auto p = block_of(random_params(kHeads, kWidth, kFeatures, torch::kDouble, 5), 0, kHeads / 2);
  auto group = join_gloo_head_group({"127.0.0.1", port, 0, 2, std::chrono::seconds(5)});
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  StepContext context;
  context.group = group.get();
  const auto start = std::chrono::steady_clock::now();
  try {
    sparse_step(p, batch().narrow(1, 0, kHeads / 2), constants(), context);
    FAIL() << "a step with a missing rank returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("head group rank 0 of 2"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(HeadParallel, TwoRanksGiveTheOneProcessLossAndGradients) { expect_ranks_equal_one_process(2); }

TEST(HeadParallel, FourRanksGiveTheOneProcessLossAndGradients) { expect_ranks_equal_one_process(4); }

}  // namespace
}  // namespace cw
