// Head-parallel training step (crosscoder/head_group.h): the heads of one
// crosscoder split over 2 and 4 processes that sum through c10d's Gloo
// group over loopback give the one-process step's loss and gradients.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#include <torch/serialize.h>
#include <torch/utils.h>

#include "crosscoder/compute_threads.h"
#include "crosscoder/crosscoder.h"
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

// Runs rank_main(rank) in `world` forked processes and waits for them; each
// must exit with status 0.
void run_ranks(int world, const std::function<int(int)>& rank_main) {
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(rank_main(rank));
    ranks.push_back(pid);
  }
  for (int rank = 0; rank < world; ++rank) {
    int status = 0;
    ASSERT_EQ(waitpid(ranks[rank], &status, 0), ranks[rank]);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank " << rank << " failed";
  }
}

void expect_ranks_equal_one_process(int world) {
  testing::TempDir dir;
  const int port = testing::free_port();
  run_ranks(world, [&](int rank) { return run_rank(rank, world, port, dir.sub("rank" + std::to_string(rank))); });
  if (::testing::Test::HasFatalFailure()) return;
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

// A whole crosscoder split into head blocks (Crosscoder::head_block): six
// snapshots grown online, an update after each, then one more budget of
// steps trained alone and on ranks.
constexpr int64_t kSnapshots = 6, kTokens = 64, kStepsPerUpdate = 20;

CrosscoderOptions small_options() {
  CrosscoderOptions o;
  o.d_model = kWidth;
  o.n_features = 32;
  o.batch_size = 32;
  o.steps_per_update = kStepsPerUpdate;
  o.seconds_per_update = 0;
  o.sparsity_lambda = 0.1;
  o.lr = 0.01;
  o.seed = 3;
  // A block does not silence faded rows (a latent's level needs all its
  // heads); the daemon silences the joined crosscoder after the budget
  // (TrainerRanksDaemon tests). Here the blocks are joined by hand.
  o.silence_faded_rows = false;
  return o;
}

std::vector<float> activations_at(int64_t t) {
  torch::manual_seed(100 + t);
  const auto x = (torch::randn({kTokens, kWidth}) * (1.0 + 0.2 * double(t))).contiguous();
  return std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
}

std::string grown_state() {
  Crosscoder c(small_options());
  for (int64_t t = 0; t < kSnapshots; ++t) {
    const auto x = activations_at(t);
    c.add_snapshot(uint64_t(100 * t), x.data(), kTokens);
    c.train();
  }
  return c.serialize();
}

Crosscoder loaded(const std::string& state) {
  Crosscoder c = Crosscoder::deserialize(state);
  for (int64_t t = 0; t < kSnapshots; ++t) {
    const auto x = activations_at(t);
    c.restore_activations(t, x.data(), kTokens);
  }
  return c;
}

// Rank r's contiguous heads; ranks that do not divide the heads differ by one.
std::pair<int64_t, int64_t> heads_of_rank(int rank, int world) {
  return {kSnapshots * rank / world, kSnapshots * (rank + 1) / world};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// One rank: its block trains one budget in the group; writes the block's
// state to OUT.state and "first_loss last_loss steps" to OUT.loss.
int train_rank(const std::string& state, int rank, int world, int port, const std::string& out) {
  try {
    set_compute_threads(1);
    const auto [begin, end] = heads_of_rank(rank, world);
    Crosscoder block = loaded(state).head_block(begin, end);
    auto group = join_gloo_head_group({"127.0.0.1", port, rank, world, std::chrono::seconds(30)});
    block.train_in_group(group.get());
    const TrainReport report = block.train_between_arrivals(1.0);
    std::ofstream(out + ".state", std::ios::binary) << block.serialize();
    std::ofstream(out + ".loss") << std::setprecision(17) << report.first_loss << " " << report.last_loss << " "
                                 << report.steps;
    return 0;
  } catch (const std::exception& e) {
    fprintf(stderr, "rank %d: %s\n", rank, e.what());
    return 1;
  }
}

// One budget of `state` trained on `world` ranks; the blocks joined back
// into one crosscoder, returned as its state (what a checkpoint holds). Each
// rank's first and last loss go to `losses`.
std::string train_on_ranks(const std::string& state, int world, std::vector<std::pair<double, double>>* losses) {
  testing::TempDir dir;
  const int port = testing::free_port();
  run_ranks(world, [&](int rank) { return train_rank(state, rank, world, port, dir.sub("rank" + std::to_string(rank))); });
  if (::testing::Test::HasFatalFailure()) return "";
  Crosscoder joined = loaded(state);
  for (int rank = 0; rank < world; ++rank) {
    const std::string out = dir.sub("rank" + std::to_string(rank));
    double first = 0, last = 0;
    int64_t steps = 0;
    std::ifstream(out + ".loss") >> first >> last >> steps;
    EXPECT_EQ(steps, kStepsPerUpdate) << "rank " << rank;
    losses->emplace_back(first, last);
    joined.put_head_block(Crosscoder::deserialize(read_file(out + ".state")), heads_of_rank(rank, world).first);
  }
  return joined.serialize();
}

void expect_same_decoders(const Crosscoder& a, const Crosscoder& b) {
  for (int64_t t = 0; t < kSnapshots; ++t) {
    const auto x = a.decoder_directions(t), y = b.decoder_directions(t);
    ASSERT_EQ(x.size(), y.size());
    float worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
    EXPECT_LT(worst, 1e-4f) << "head " << t;
  }
}

TEST(HeadParallel, AnUpdateOnTwoOrThreeRanksTrainsAsOneProcess) {
  set_compute_threads(1);  // before any torch work: the ranks are forked from here
  const std::string state = grown_state();
  Crosscoder alone = loaded(state);
  const TrainReport expected = alone.train_between_arrivals(1.0);
  ASSERT_EQ(expected.steps, kStepsPerUpdate);
  for (int world : {2, 3}) {
    SCOPED_TRACE(std::to_string(world) + " ranks");
    std::vector<std::pair<double, double>> losses;
    const std::string joined = train_on_ranks(state, world, &losses);
    if (HasFatalFailure()) return;
    ASSERT_EQ(losses.size(), std::size_t(world));
    for (const auto& [first, last] : losses) {
      // Float sums in another order: the losses agree to float rounding.
      EXPECT_NEAR(first, expected.first_loss, 1e-5 * expected.first_loss);
      EXPECT_NEAR(last, expected.last_loss, 1e-4 * expected.last_loss);
    }
    expect_same_decoders(alone, loaded(joined));
  }
}

// Checkpointed after a budget on two ranks, resumed on three (and on one):
// the next budget trains as the uninterrupted crosscoder's does.
TEST(HeadParallel, ResumingOnAnotherNumberOfRanksTrainsAsUninterrupted) {
  set_compute_threads(1);
  const std::string state = grown_state();
  Crosscoder alone = loaded(state);
  alone.train_between_arrivals(1.0);
  const TrainReport expected = alone.train_between_arrivals(1.0);
  std::vector<std::pair<double, double>> on_two, on_three;
  const std::string checkpoint = train_on_ranks(state, 2, &on_two);
  if (HasFatalFailure()) return;
  const std::string resumed = train_on_ranks(checkpoint, 3, &on_three);
  if (HasFatalFailure()) return;
  ASSERT_EQ(on_three.size(), 3u);
  for (const auto& [first, last] : on_three) {
    EXPECT_NEAR(first, expected.first_loss, 1e-4 * expected.first_loss);
    EXPECT_NEAR(last, expected.last_loss, 1e-4 * expected.last_loss);
  }
  expect_same_decoders(alone, loaded(resumed));
  Crosscoder on_one = loaded(checkpoint);
  EXPECT_NEAR(on_one.train_between_arrivals(1.0).last_loss, expected.last_loss, 1e-4 * expected.last_loss);
  expect_same_decoders(alone, on_one);
}

TEST(HeadParallel, HeadBlocksRefuseRangesAndBlocksThatDoNotFit) {
  set_compute_threads(1);
  Crosscoder c = loaded(grown_state());
  EXPECT_THROW(c.head_block(0, kSnapshots + 1), std::invalid_argument);
  EXPECT_THROW(c.head_block(3, 3), std::invalid_argument);
  const Crosscoder block = c.head_block(2, 5);
  EXPECT_EQ(block.n_snapshots(), 3);
  EXPECT_THROW(c.put_head_block(block, 4), std::invalid_argument);  // heads 4..6 of 6
  c.put_head_block(block, 3);  // fits (whatever it does to the numbers)
}

TEST(HeadParallel, TwoRanksGiveTheOneProcessLossAndGradients) { expect_ranks_equal_one_process(2); }

TEST(HeadParallel, FourRanksGiveTheOneProcessLossAndGradients) { expect_ranks_equal_one_process(4); }

}  // namespace
}  // namespace cw
