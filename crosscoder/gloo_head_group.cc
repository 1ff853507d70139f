#include "crosscoder/gloo_head_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <stdexcept>
#include <vector>

namespace cw {
namespace {

constexpr const char* kGenerationKey = "cw/generation";
constexpr const char* kStopKey = "cw/stop";

std::string jobs_key(int64_t generation) { return "cw/" + std::to_string(generation) + "/jobs"; }
std::string state_key(int64_t generation) { return "cw/" + std::to_string(generation) + "/state"; }

class GlooHeadGroup : public MessageGroup {
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
      throw failed("a sum across ranks", e);
    }
    bytes_ += int64_t(t.numel()) * int64_t(t.element_size());
  }

  // The length first, then the bytes: the receiver sizes its buffer.
  void send(const std::string& bytes, int to) override {
    try {
      std::vector<at::Tensor> length{torch::tensor({int64_t(bytes.size())}, torch::kInt64)};
      group_->send(length, to, /*tag=*/0)->wait();
      if (bytes.empty()) return;
      std::vector<at::Tensor> data{torch::from_blob(const_cast<char*>(bytes.data()), {int64_t(bytes.size())},
                                                    torch::kUInt8)};
      group_->send(data, to, /*tag=*/1)->wait();
    } catch (const std::exception& e) {
      throw failed("sending to rank " + std::to_string(to), e);
    }
  }

  std::string receive(int from) override {
    try {
      std::vector<at::Tensor> length{torch::zeros({1}, torch::kInt64)};
      group_->recv(length, from, /*tag=*/0)->wait();
      std::string bytes(size_t(length[0].item<int64_t>()), '\0');
      if (bytes.empty()) return bytes;
      std::vector<at::Tensor> data{torch::from_blob(bytes.data(), {int64_t(bytes.size())}, torch::kUInt8)};
      group_->recv(data, from, /*tag=*/1)->wait();
      return bytes;
    } catch (const std::exception& e) {
      throw failed("receiving from rank " + std::to_string(from), e);
    }
  }

 private:
  std::runtime_error failed(const std::string& what, const std::exception& e) const {
    return std::runtime_error("head group rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) +
                              ": " + what + " failed (" + e.what() + ")");
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int rank_, world_size_;
  int64_t bytes_ = 0;
};

std::string where(const HeadGroupAddress& a) {
  return "head group rank " + std::to_string(a.rank) + " of " + std::to_string(a.world_size) + " at " + a.host + ":" +
         std::to_string(a.port);
}

}  // namespace

struct Rendezvous::Store {
  c10::intrusive_ptr<c10d::TCPStore> tcp;
};

Rendezvous::Rendezvous(const HeadGroupAddress& a) : address_(a), store_(std::make_unique<Store>()) {
  if (a.world_size < 1 || a.rank < 0 || a.rank >= a.world_size)
    throw std::invalid_argument("head group: rank " + std::to_string(a.rank) + " is not in a world of " +
                                std::to_string(a.world_size));
  try {
    c10d::TCPStoreOptions options;
    options.port = uint16_t(a.port);
    options.isServer = a.rank == 0;
    options.numWorkers = c10::nullopt;  // ranks come and go: no head count at the store
    options.waitWorkers = false;
    options.timeout = a.timeout;
    store_->tcp = c10::make_intrusive<c10d::TCPStore>(a.host, options);
  } catch (const std::exception& e) {
    throw std::runtime_error(where(a) + ": cannot " + (a.rank == 0 ? "serve" : "reach") + " the store (" + e.what() +
                             ")");
  }
}

Rendezvous::~Rendezvous() = default;

std::unique_ptr<MessageGroup> Rendezvous::join(int64_t generation) {
  const HeadGroupAddress& a = address_;
  try {
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("cw/" + std::to_string(generation) + "/", store_->tcp);
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->timeout = a.timeout;
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(a.host));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, a.rank, a.world_size, gloo);
    return std::make_unique<GlooHeadGroup>(std::move(group), a.rank, a.world_size);
  } catch (const std::exception& e) {
    throw std::runtime_error(where(a) + ": cannot meet the other ranks as generation " + std::to_string(generation) +
                             " (" + e.what() + ")");
  }
}

void Rendezvous::open_generation(int64_t generation) {
  mark_generation(generation, "joining");
  const std::string value = std::to_string(generation);
  store_->tcp->set(kGenerationKey, std::vector<uint8_t>(value.begin(), value.end()));
}

void Rendezvous::mark_generation(int64_t generation, const std::string& state) {
  store_->tcp->set(state_key(generation), std::vector<uint8_t>(state.begin(), state.end()));
}

int64_t Rendezvous::current_generation() {
  if (!store_->tcp->check({kGenerationKey})) return -1;
  const auto value = store_->tcp->get(kGenerationKey);
  return std::stoll(std::string(value.begin(), value.end()));
}

std::string Rendezvous::generation_state(int64_t generation) {
  if (!store_->tcp->check({state_key(generation)})) return "";
  const auto value = store_->tcp->get(state_key(generation));
  return std::string(value.begin(), value.end());
}

void Rendezvous::post_job(int64_t generation) { store_->tcp->add(jobs_key(generation), 1); }

int64_t Rendezvous::jobs(int64_t generation) { return store_->tcp->add(jobs_key(generation), 0); }

void Rendezvous::stop_all() { store_->tcp->set(kStopKey, std::vector<uint8_t>{1}); }

bool Rendezvous::stopped() { return store_->tcp->check({kStopKey}); }

int Rendezvous::port() const { return int(store_->tcp->getPort()); }

std::unique_ptr<HeadGroup> join_gloo_head_group(const HeadGroupAddress& address) {
  Rendezvous rendezvous(address);
  return rendezvous.join(0);
}

}  // namespace cw
