// Where the ranks of a head group meet (torch-free: the daemon's
// configuration and the trainer program name it without LibTorch).
#ifndef CW_CROSSCODER_HEAD_GROUP_ADDRESS_H_
#define CW_CROSSCODER_HEAD_GROUP_ADDRESS_H_

#include <chrono>
#include <string>

namespace cw {

struct HeadGroupAddress {
  std::string host = "127.0.0.1";  // where rank 0's store listens
  int port = 0;                    // 0 at rank 0: any free port (TrainerRanks::port() says which)
  int rank = 0;
  int world_size = 1;
  // How long to wait for every rank to join, and for any one sum.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

}  // namespace cw

#endif  // CW_CROSSCODER_HEAD_GROUP_ADDRESS_H_
