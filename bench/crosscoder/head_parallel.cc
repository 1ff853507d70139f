// Head-parallel crosscoder step (docs/SCALE_OUT.md): per training step,
// compute time against the time and bytes of the sums across ranks, for 1,
// 2 and 4 ranks (forked processes, c10d Gloo over loopback), each rank
// holding T/ranks heads; then the step time projected to 8 and 16 ranks on
// a 100 Gb/s network and on NVLink from the measured one-rank compute and
// the byte count (ring all-reduce).
// Usage: cw_bench_head_parallel [--d 768] [--features 16384] [--snapshots 32]
//                               [--batch 64] [--steps 3] [--ranks 1,2,4]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <torch/utils.h>

#include "bench/common/daemon_process.h"
#include "bench/common/sample_stats.h"
#include "bench/common/temp_dir.h"
#include "crosscoder/compute_threads.h"
#include "crosscoder/gloo_head_group.h"
#include "crosscoder/training_step.h"

namespace {

struct Shape {
  int64_t d = 768, features = 16384, snapshots = 32, batch = 64;
  int steps = 3;
};

// Times the sums of the group it wraps.
class TimedGroup : public cw::HeadGroup {
 public:
  explicit TimedGroup(std::unique_ptr<cw::HeadGroup> inner) : inner_(std::move(inner)) {}
  int rank() const override { return inner_->rank(); }
  int world_size() const override { return inner_->world_size(); }
  int64_t bytes_summed() const override { return inner_->bytes_summed(); }
  void sum(torch::Tensor& t) override {
    const auto start = std::chrono::steady_clock::now();
    inner_->sum(t);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  double seconds = 0;

 private:
  std::unique_ptr<cw::HeadGroup> inner_;
};

// One rank's block of heads; thresholds so that ~32 of the features fire
// per row (h is ~N(0, 1) with unit decoder rows).
cw::CrosscoderParams block(const Shape& s, int64_t heads, int rank) {
  torch::manual_seed(rank + 1);
  cw::CrosscoderParams p;
  p.w_enc = torch::randn({s.features, heads * s.d}) / std::sqrt(double(s.snapshots * s.d));
  p.w_dec = torch::randn({heads, s.features, s.d}) / std::sqrt(double(s.d));
  p.b_enc = torch::zeros({heads, s.features});
  p.b_dec = torch::zeros({heads, s.d});
  p.log_tau = torch::full({s.features}, std::log(2.9));
  return p;
}

// Per step: wall seconds, seconds inside sums, bytes summed; one line per step.
int run_rank(const Shape& s, int rank, int world, int port, bool reuse, bool group_of_one, const std::string& out) {
  try {
    cw::set_compute_threads(std::max(1, int(std::thread::hardware_concurrency()) / world));  // and OpenBLAS's
    const int64_t heads = s.snapshots / world;
    const auto p = block(s, heads, rank);
    const auto x = torch::randn({s.batch, heads, s.d});
    std::unique_ptr<TimedGroup> group;
    if (world > 1 || group_of_one) group = std::make_unique<TimedGroup>(cw::join_gloo_head_group({"127.0.0.1", port, rank, world}));
    cw::LossConstants c;
    c.lambda = 0.3;
    cw::CrosscoderParams spare;
    cw::StepContext context;
    context.group = group.get();
    context.reuse = reuse ? &spare : nullptr;
    std::ofstream file(out);
    for (int step = 0; step <= s.steps; ++step) {  // step 0 warms up
      const double sums_before = group ? group->seconds : 0;
      const int64_t bytes_before = group ? group->bytes_summed() : 0;
      const auto start = std::chrono::steady_clock::now();
      cw::StepResult r = cw::sparse_step(p, x, c, context);
      spare = std::move(r.grad);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (step > 0)
        file << wall << " " << (group ? group->seconds - sums_before : 0) << " "
             << (group ? group->bytes_summed() - bytes_before : 0) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d of %d: %s\n", rank, world, e.what());
    return 1;
  }
}

struct Measured {
  double step = 0, sums = 0, bytes = 0;  // medians over steps of the slowest rank
};

// group_of_one: one rank with a group (the ranks' float64 head-by-head sums,
// crosscoder/training_step.h), as conceptwatchd --trainer-ranks 1 trains.
Measured run_world(const Shape& s, int world, bool reuse, const std::string& dir, bool group_of_one = false) {
  const int port = cw::bench::free_loopback_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = fork();
    if (pid == 0) _exit(run_rank(s, rank, world, port, reuse, group_of_one, dir + "/r" + std::to_string(rank)));
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a rank failed");
  }
  std::vector<double> step, sums, bytes;
  for (int rank = 0; rank < world; ++rank) {
    std::ifstream in(dir + "/r" + std::to_string(rank));
    std::vector<double> w, su, b;
    double a, e, f;
    while (in >> a >> e >> f) w.push_back(a), su.push_back(e), b.push_back(f);
    step.push_back(cw::bench::median(w)), sums.push_back(cw::bench::median(su)), bytes.push_back(cw::bench::median(b));
  }
  return {cw::bench::maximum(step), cw::bench::maximum(sums), cw::bench::maximum(bytes)};
}

std::vector<int> parse_list(const char* text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Shape s;
  std::vector<int> worlds{1, 2, 4};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--d") s.d = std::atoll(argv[i + 1]);
    else if (flag == "--features") s.features = std::atoll(argv[i + 1]);
    else if (flag == "--snapshots") s.snapshots = std::atoll(argv[i + 1]);
    else if (flag == "--batch") s.batch = std::atoll(argv[i + 1]);
    else if (flag == "--steps") s.steps = std::atoi(argv[i + 1]);
    else if (flag == "--ranks") worlds = parse_list(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s (see the usage at the top of bench/crosscoder/head_parallel.cc)\n",
                   argv[i]);
      return 2;
    }
  }
  std::printf("head-parallel step: d %lld, %lld features, %lld snapshots, batch %lld, median of %d steps, "
              "%u cores\n\n", (long long)s.d, (long long)s.features, (long long)s.snapshots, (long long)s.batch,
              s.steps, std::thread::hardware_concurrency());
  std::printf("| ranks | step s | compute s | sums s | MiB summed per rank |\n|---|---|---|---|---|\n");
  cw::bench::TempDir dir("", "cw-bench-head-parallel");
  double compute_one = 0, bytes_per_step = 0;
  // The baseline: one process whose step allocates its gradients afresh
  // (as the trainer did before StepContext::reuse).
  if (std::find(worlds.begin(), worlds.end(), 1) != worlds.end()) {
    std::fprintf(stderr, "running 1 rank, fresh gradients each step...\n");
    const Measured m = run_world(s, 1, false, dir.path());
    std::printf("| 1, fresh gradients each step | %.3f | %.3f | - | - |\n", m.step, m.step);
    std::fprintf(stderr, "running 1 rank with the ranks' arithmetic...\n");
    const Measured g = run_world(s, 1, true, dir.path(), /*group_of_one=*/true);
    std::printf("| 1, the ranks' arithmetic (float64 sums head by head) | %.3f | %.3f | 0 | 0 |\n", g.step, g.step);
    compute_one = g.step;  // what the projection divides: ranks train with this arithmetic
  }
  for (int world : worlds) {
    if (s.snapshots % world) {
      std::fprintf(stderr, "%lld snapshots do not split over %d ranks\n", (long long)s.snapshots, world);
      return 2;
    }
    std::fprintf(stderr, "running %d rank(s)...\n", world);
    const Measured m = run_world(s, world, true, dir.path());
    std::printf("| %d | %.3f | %.3f | %.3f | %.1f |\n", world, m.step, m.step - m.sums, m.sums, m.bytes / 1048576.0);
    std::fflush(stdout);
    if (m.bytes > 0) bytes_per_step = m.bytes;
  }
  if (compute_one <= 0 || bytes_per_step <= 0) return 0;
  // Ring all-reduce: each rank sends and receives 2 (W − 1) / W of the bytes.
  std::printf("\nprojected step s = one-rank compute / W + 2 (W-1)/W x %.1f MiB / bandwidth\n\n",
              bytes_per_step / 1048576.0);
  std::printf("| ranks | 100 Gb/s (12.5 GB/s) | NVLink (450 GB/s) |\n|---|---|---|\n");
  for (int w : {2, 4, 8, 16}) {
    const double traffic = 2.0 * (w - 1) / w * bytes_per_step;
    std::printf("| %d | %.3f | %.3f |\n", w, compute_one / w + traffic / 12.5e9, compute_one / w + traffic / 450e9);
  }
  return 0;
}
