// conceptwatch-trainer: one trainer rank of a daemon's crosscoders
// (`[analysis] trainer_ranks`): joins the ranks at the daemon's store and
// trains the blocks of heads the daemon hands it (crosscoder/
// trainer_ranks.h). conceptwatchd starts these itself on its machine; on
// another machine start one per rank (docs/SCALE_OUT.md "Trainer ranks").
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include "analysis/row_file_source.h"
#include "crosscoder/tensor_heap.h"
#include "crosscoder/trainer_ranks.h"
#include "observe/host_port.h"

int main(int argc, char** argv) {
  cw::keep_freed_tensor_memory();  // 2.2x faster training steps on CPU (crosscoder/tensor_heap.h)
  cw::HeadGroupAddress address;
  std::string store;
  double timeout_seconds = 60;
  std::string row_cache;
  double row_cache_keep_days = 7;
  CLI::App app{"conceptwatch-trainer: one trainer rank of conceptwatchd's crosscoders"};
  app.add_option("--rank", address.rank, "this rank, 1 .. world size - 1 (the daemon is rank 0)")->required();
  app.add_option("--world-size", address.world_size, "ranks in all, the daemon's [analysis] trainer_ranks")
      ->required();
  app.add_option("--store", store, "host:port where the daemon's ranks meet (its log says, at start-up)")->required();
  app.add_option("--timeout-seconds", timeout_seconds,
                 "how long to wait for the other ranks in any one sum, and for the daemon when it is gone")
      ->capture_default_str();
  app.add_option("--row-cache", row_cache,
                 "where this rank keeps copies of the daemon's row files (streamed taps) when it cannot open them "
                 "(another machine): each is sent once instead of its rows every step; none kept by default");
  app.add_option("--row-cache-keep-days", row_cache_keep_days,
                 "a copy in --row-cache that no block has read for this many days is removed (a deleted run's, a tap "
                 "no longer trained); one removed too early is only sent again")
      ->check(CLI::Range(0.01, 3650.0))
      ->capture_default_str();
  double row_cache_max_gib = 0;
  app.add_option("--row-cache-max-gib", row_cache_max_gib,
                 "the most disk the copies in --row-cache may take: beyond it the least recently read are removed "
                 "after each block, never the block's own (0: no cap, only --row-cache-keep-days)")
      ->check(CLI::Range(0.0, 1048576.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const cw::HostPort rank0 = cw::split_host_port(store, "--store", false);
    address.host = rank0.host;
    address.port = rank0.port;
  } catch (const std::exception& e) {
    std::cerr << "conceptwatch-trainer: " << e.what() << "\n";
    return 2;
  }
  address.timeout = std::chrono::milliseconds(int64_t(timeout_seconds * 1000));
  try {
    // A streamed crosscoder's rows are read from the daemon's row files
    // when this rank can open them (its machine), else from copies kept in
    // --row-cache, else sent by the daemon every step.
    cw::TrainerRanks::serve_rank(
        address, [](const std::string& line) { std::cerr << "conceptwatch-trainer: " << line << std::endl; },
        cw::rank_row_files(row_cache, std::chrono::seconds(int64_t(row_cache_keep_days * 24 * 3600)),
                           uint64_t(row_cache_max_gib * double(uint64_t(1) << 30))));
  } catch (const std::exception& e) {
    std::cerr << "conceptwatch-trainer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
