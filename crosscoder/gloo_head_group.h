// A HeadGroup over c10d's ProcessGroupGloo (LibTorch's CPU collectives),
// meeting through a TCPStore: rank 0 serves the store at host:port, every
// other rank connects to it. The same code path takes ProcessGroupNCCL
// where LibTorch is built with CUDA (docs/SCALE_OUT.md).
#ifndef CW_CROSSCODER_GLOO_HEAD_GROUP_H_
#define CW_CROSSCODER_GLOO_HEAD_GROUP_H_

#include <chrono>
#include <memory>
#include <string>

#include "crosscoder/head_group.h"

namespace cw {

struct HeadGroupAddress {
  std::string host = "127.0.0.1";  // where rank 0's store listens
  int port = 0;
  int rank = 0;
  int world_size = 1;
  // How long to wait for every rank to join, and for any one sum.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// Joins the group; returns once every rank has. Throws std::runtime_error
// (naming the address) when the store cannot be reached or served, or the
// other ranks do not arrive within the timeout.
std::unique_ptr<HeadGroup> join_gloo_head_group(const HeadGroupAddress& address);

}  // namespace cw

#endif  // CW_CROSSCODER_GLOO_HEAD_GROUP_H_
