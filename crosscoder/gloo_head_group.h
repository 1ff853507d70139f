// A HeadGroup over c10d's ProcessGroupGloo (LibTorch's CPU collectives),
// meeting through a TCPStore: rank 0 serves the store at host:port, every
// other rank connects to it. The same code path takes ProcessGroupNCCL
// where LibTorch is built with CUDA (docs/SCALE_OUT.md).
#ifndef CW_CROSSCODER_GLOO_HEAD_GROUP_H_
#define CW_CROSSCODER_GLOO_HEAD_GROUP_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "crosscoder/head_group.h"
#include "crosscoder/head_group_address.h"

namespace cw {

// Joins the group; returns once every rank has. Throws std::runtime_error
// (naming the address) when the store cannot be reached or served, or the
// other ranks do not arrive within the timeout.
std::unique_ptr<HeadGroup> join_gloo_head_group(const HeadGroupAddress& address);

// A head group whose ranks also pass messages, rank 0 to one rank or back:
// how rank 0 hands each rank its block of heads (crosscoder/trainer_ranks.h).
class MessageGroup : public HeadGroup {
 public:
  // Blocks until `to` receives; throws std::runtime_error when it is gone.
  virtual void send(const std::string& bytes, int to) = 0;
  virtual std::string receive(int from) = 0;
};

// The store outlives the groups met through it. A group that broke (a rank
// died) cannot be mended; the ranks meet again as the next generation: a
// fresh Gloo group over the keys of that generation in the same store.
class Rendezvous {
 public:
  // Rank 0 serves the store at address.host:port; the others connect
  // (retrying until address.timeout). Throws std::runtime_error.
  explicit Rendezvous(const HeadGroupAddress& address);
  ~Rendezvous();
  // Joins generation `generation`'s group; returns once every rank has.
  // Throws std::runtime_error when they do not arrive within the timeout.
  std::unique_ptr<MessageGroup> join(int64_t generation);
  // Generations: rank 0 opens one right before it joins it ("joining"),
  // marks it "formed" once every rank has, or "closed" once it failed. A
  // rank joins only a generation that is joining: one that formed without
  // it (it was restarted) or closed would keep it waiting for rank 0 in
  // vain. current_generation() is the newest opened (-1: none yet).
  void open_generation(int64_t generation);
  void mark_generation(int64_t generation, const std::string& state);
  int64_t current_generation();
  std::string generation_state(int64_t generation);
  // Rank 0 posts a job to generation `generation`'s ranks (a counter in the
  // store, so that a rank waits for work without a Gloo receive timing out
  // while the daemon is idle); jobs() reads the counter.
  void post_job(int64_t generation);
  int64_t jobs(int64_t generation);
  // Rank 0 tells every rank to exit; stopped() says whether it has.
  void stop_all();
  bool stopped();
  // The port the store listens on (rank 0 asked for port 0: the one chosen).
  int port() const;
  const HeadGroupAddress& address() const { return address_; }

 private:
  struct Store;
  HeadGroupAddress address_;
  std::unique_ptr<Store> store_;
};

}  // namespace cw

#endif  // CW_CROSSCODER_GLOO_HEAD_GROUP_H_
