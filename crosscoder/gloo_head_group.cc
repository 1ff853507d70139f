#include "crosscoder/gloo_head_group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <stdexcept>
#include <vector>

namespace cw {
namespace {

class GlooHeadGroup : public HeadGroup {
 public:
  GlooHeadGroup(c10::intrusive_ptr<c10d::ProcessGroupGloo> group, int rank, int world_size)
      : group_(std::move(group)), rank_(rank), world_size_(world_size) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  int64_t bytes_summed() const override { return bytes_; }

  void sum(torch::Tensor& t) override {
    if (world_size_ == 1) return;
    std::vector<at::Tensor> tensors{t};
    try {
      group_->allreduce(tensors)->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error("head group rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) +
                               ": a sum across ranks failed (" + e.what() + ")");
    }
    bytes_ += int64_t(t.numel()) * int64_t(t.element_size());
  }

 private:
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int rank_, world_size_;
  int64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<HeadGroup> join_gloo_head_group(const HeadGroupAddress& a) {
  if (a.world_size < 1 || a.rank < 0 || a.rank >= a.world_size)
    throw std::invalid_argument("head group: rank " + std::to_string(a.rank) + " is not in a world of " +
                                std::to_string(a.world_size));
  const std::string where = a.host + ":" + std::to_string(a.port);
  try {
    c10d::TCPStoreOptions options;
    options.port = uint16_t(a.port);
    options.isServer = a.rank == 0;
    options.numWorkers = a.world_size;
    options.waitWorkers = true;
    options.timeout = a.timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(a.host, options);
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->timeout = a.timeout;
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(a.host));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, a.rank, a.world_size, gloo);
    return std::make_unique<GlooHeadGroup>(std::move(group), a.rank, a.world_size);
  } catch (const std::exception& e) {
    throw std::runtime_error("head group rank " + std::to_string(a.rank) + " of " + std::to_string(a.world_size) +
                             ": cannot meet the other ranks at " + where + " (" + e.what() + ")");
  }
}

}  // namespace cw
