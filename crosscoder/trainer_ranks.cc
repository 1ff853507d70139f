#include "crosscoder/trainer_ranks.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/gloo_head_group.h"
#include "crosscoder/rows_over_ranks.h"

namespace cw {
namespace {

// Block r of `n` heads over `world` ranks: contiguous, the first n % world
// blocks one head longer.
std::pair<int64_t, int64_t> block_of(int64_t n, int world, int r) {
  const int64_t base = n / world, extra = n % world;
  const int64_t begin = r * base + std::min<int64_t>(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

// What a block message starts with: a tag that says it is one, then the
// layout's version, so that a rank of another build refuses it in words
// (version 1 had no tag; 2 added the tag, the version and the
// accept/call-off round; 3 a streamed block's row files; 4 the round in
// which a rank asks for the row files it lacks).
constexpr int64_t kBlockMessageTag = 0x214b434f4c425743;  // the bytes "CWBLOCK!" on a little-endian machine
constexpr int64_t kBlockMessageVersion = 4;

// A rank's answer to its block before any step: 'K' it can train it, 'R'
// it can and reads its own rows from the block's row files (a streamed
// block: rank 0 sends it none), or 'E' and why not; or first 'F' and the
// heads whose row files it lacks and would keep (int64 each), which rank 0
// sends it, and then one of the three. Then rank 0's word to each rank
// that accepted: go, or call off (another rank refused), so that no rank
// waits in a step's sum for a rank that will never join it.
constexpr char kAccepted = 'K', kAcceptedReadingRowFiles = 'R', kRefused = 'E', kSendRowFiles = 'F';
// A row file travels in messages of at most this many bytes, so that
// neither side holds a whole snapshot (512 MiB at d 4,096 and 32k rows).
constexpr int64_t kRowFileMessageBytes = int64_t{16} << 20;
const std::string kGo = "G", kCallOff = "A";

void append(std::string* out, int64_t v) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }

int64_t read_int(const std::string& in, size_t* at) {
  int64_t v = 0;
  if (*at + sizeof v > in.size()) throw std::runtime_error("trainer ranks: a truncated block message");
  std::memcpy(&v, in.data() + *at, sizeof v);
  *at += sizeof v;
  return v;
}

std::string read_text(const std::string& in, size_t* at) {
  const int64_t n = read_int(in, at);
  if (n < 0 || *at + size_t(n) > in.size()) throw std::runtime_error("trainer ranks: a truncated block message");
  std::string out = in.substr(*at, size_t(n));
  *at += size_t(n);
  return out;
}

// A group of one: every head here, sums as they are. Training with it takes
// the head-parallel step's arithmetic (training_step.h), so that one rank
// trains as two or four do.
class SoleRank : public MessageGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void sum(torch::Tensor&) override {}
  int64_t bytes_summed() const override { return 0; }
  void send(const std::string&, int to) override {
    throw std::logic_error("a group of one rank has no rank " + std::to_string(to));
  }
  std::string receive(int from) override {
    throw std::logic_error("a group of one rank has no rank " + std::to_string(from));
  }
};

}  // namespace

TrainerRanks::TrainerRanks(const HeadGroupAddress& address) : address_(address) {
  if (address.rank != 0) throw std::invalid_argument("TrainerRanks: the daemon is rank 0");
  if (address.world_size < 1) throw std::invalid_argument("TrainerRanks: at least one rank, the daemon");
  if (address.world_size > 1) rendezvous_ = std::make_unique<Rendezvous>(address);
}

TrainerRanks::~TrainerRanks() {
  try {
    if (rendezvous_) rendezvous_->stop_all();
  } catch (const std::exception&) {
    // The store is going away with us; ranks see it gone and exit.
  }
}

int TrainerRanks::world_size() const { return address_.world_size; }
int TrainerRanks::port() const { return rendezvous_ ? rendezvous_->port() : 0; }
int64_t TrainerRanks::generation() const { return generation_; }

struct TrainerRanks::ReceivedBlock {
  Crosscoder block;
  int64_t steps = 0;
  std::vector<std::string> row_files;  // a streamed block's, per head
  bool reads_row_files = false;
  std::string why_rows_are_sent;  // a streamed block's, when not

  // Rows from the row files when `access.open` opens them all, else sent by
  // rank 0 (and why_rows_are_sent says why).
  void choose_rows(MessageGroup* group, const RowFileAccess& access) {
    Crosscoder::Impl& m = *block.impl_;
    try {
      if (!access.open) throw std::runtime_error("this rank opens no row files");
      for (const auto& path : row_files)
        if (path.empty()) throw std::runtime_error("rank 0's rows are not in row files");
      m.block_rows = std::make_unique<StreamedRows>(access.open(row_files, m.n_tokens, m.options.d_model), &m.scales,
                                                    m.per_row());
      reads_row_files = true;
      why_rows_are_sent.clear();
      return;
    } catch (const std::exception& e) {
      why_rows_are_sent = e.what();
    }
    m.block_rows = std::make_unique<ReceivedRows>(*group, m.n_snap(), m.options.d_model);
  }

  // The heads whose row files `access` cannot open but could keep.
  std::vector<int64_t> lacking(const RowFileAccess& access) const {
    std::vector<int64_t> out;
    if (reads_row_files || !access.open || !access.keep) return out;
    const Crosscoder::Impl& m = *block.impl_;
    for (size_t t = 0; t < row_files.size(); ++t) {
      if (row_files[t].empty()) return {};  // rank 0 has no files to send
      try {
        access.open({row_files[t]}, m.n_tokens, m.options.d_model);
      } catch (const std::exception&) {
        out.push_back(int64_t(t));
      }
    }
    return out;
  }
};

// A block's message: tag, version, steps, heads, rows, d_model, whether its activations
// follow (1) or come batch by batch (0: a streamed crosscoder), the state's
// length, the state (Crosscoder::serialize), then, if they follow, its
// heads' activations as held (normalised and scaled), head after head;
// else each head's row file (length, then path; empty when it has none).
std::string TrainerRanks::pack(const Crosscoder& block, int64_t steps, const std::vector<std::string>* row_files) {
  const Crosscoder::Impl& m = *block.impl_;
  const std::string state = block.serialize();
  std::string out;
  append(&out, kBlockMessageTag);
  append(&out, kBlockMessageVersion);
  append(&out, steps);
  append(&out, m.n_snap());
  append(&out, m.n_tokens);
  append(&out, m.options.d_model);
  append(&out, row_files ? 0 : 1);
  append(&out, int64_t(state.size()));
  out += state;
  if (row_files) {
    for (const auto& path : *row_files) {
      append(&out, int64_t(path.size()));
      out += path;
    }
    return out;
  }
  for (const auto& x : m.memory.snapshots) {
    const auto rows = x.contiguous();
    out.append(reinterpret_cast<const char*>(rows.data_ptr<float>()), size_t(rows.numel()) * sizeof(float));
  }
  return out;
}

TrainerRanks::ReceivedBlock TrainerRanks::unpack(const std::string& bytes, MessageGroup* group,
                                                 const RowFileAccess& access) {
  size_t at = 0;
  if (read_int(bytes, &at) != kBlockMessageTag)
    throw std::runtime_error(
        "trainer ranks: not a block message of this layout (from a conceptwatchd built before block messages "
        "carried a version?): run the same build on every rank");
  if (const int64_t version = read_int(bytes, &at); version != kBlockMessageVersion)
    throw std::runtime_error("trainer ranks: a block message of version " + std::to_string(version) +
                             ", this conceptwatch-trainer reads version " + std::to_string(kBlockMessageVersion) +
                             ": run the same build on every rank");
  const int64_t steps = read_int(bytes, &at);
  const int64_t heads = read_int(bytes, &at), rows = read_int(bytes, &at), d = read_int(bytes, &at);
  const int64_t rows_follow = read_int(bytes, &at);
  const int64_t state_size = read_int(bytes, &at);
  if (heads < 1 || rows < 1 || d < 1 || state_size < 0 || (rows_follow != 0 && rows_follow != 1) ||
      bytes.size() < at + size_t(state_size) ||
      (rows_follow && bytes.size() != at + size_t(state_size) + size_t(heads * rows * d) * sizeof(float)))
    throw std::runtime_error("trainer ranks: a block message of the wrong size");
  ReceivedBlock out{Crosscoder::deserialize(bytes.substr(at, size_t(state_size))), steps, {}, false, {}};
  at += size_t(state_size);
  Crosscoder::Impl& m = *out.block.impl_;
  if (m.n_snap() != heads || m.n_tokens != rows || m.options.d_model != d)
    throw std::runtime_error("trainer ranks: a block whose state and activations disagree");
  if (!rows_follow) {
    for (int64_t t = 0; t < heads; ++t) out.row_files.push_back(read_text(bytes, &at));
    if (at != bytes.size()) throw std::runtime_error("trainer ranks: a block message of the wrong size");
    out.choose_rows(group, access);
    return out;
  }
  for (int64_t t = 0; t < heads; ++t) {
    auto x = torch::empty({rows, d}, torch::kFloat32);
    std::memcpy(x.data_ptr<float>(), bytes.data() + at, size_t(rows * d) * sizeof(float));
    at += size_t(rows * d) * sizeof(float);
    m.memory.snapshots[size_t(t)] = x;
  }
  return out;
}

void TrainerRanks::copy_row_files(ReceivedBlock& received, const std::vector<int64_t>& lacking, MessageGroup* group,
                                  const RowFileAccess& access) {
  std::string failed;
  for (int64_t t : lacking) {
    bool ended = false;
    const auto next_bytes = [&](std::string* bytes) {
      *bytes = group->receive(0);
      ended = bytes->empty();
      return !ended;
    };
    try {
      access.keep(received.row_files[size_t(t)], next_bytes);
    } catch (const std::exception& e) {
      if (failed.empty()) failed = e.what();
    }
    std::string rest;
    while (!ended) next_bytes(&rest);  // the file's remaining messages, so that the next starts in turn
  }
  received.choose_rows(group, access);
  if (!failed.empty() && !received.reads_row_files) received.why_rows_are_sent = "keeping a copy failed: " + failed;
}

void TrainerRanks::prune_row_files(const ReceivedBlock& received, const RowFileAccess& access,
                                   const std::string& me, const std::function<void(const std::string&)>& log) {
  if (!access.prune) return;
  try {
    const std::vector<std::string> removed = access.prune(received.row_files);
    if (!removed.empty())
      log(me + ": removed " + std::to_string(removed.size()) +
          " row-file copies no block has read for long, or beyond the bytes it keeps (" + removed.front() +
          (removed.size() > 1 ? ", ..." : "") + ")");
  } catch (const std::exception& e) {
    log(me + ": could not prune its row-file copies: " + e.what());
  }
}

void TrainerRanks::send_row_file(const RowSource& rows, int64_t t, int r) {
  const int64_t d = rows.d_model(), n = rows.n_tokens();
  const int64_t per_message = std::max<int64_t>(1, kRowFileMessageBytes / (d * int64_t(sizeof(float))));
  std::string bytes;
  for (int64_t begin = 0; begin < n; begin += per_message) {
    const int64_t end = std::min(n, begin + per_message);
    bytes.resize(size_t((end - begin) * d) * sizeof(float));
    rows.read_range(t, begin, end, reinterpret_cast<float*>(bytes.data()));
    group_->send(bytes, r);
    row_file_bytes_sent_ += int64_t(bytes.size());
  }
  group_->send(std::string(), r);
}

TrainReport TrainerRanks::train_block(Crosscoder& block, MessageGroup* group, int64_t steps,
                                      const std::function<void(int64_t, double)>& progress,
                                      const std::atomic<bool>* stop) {
  block.impl_->group = group;
  TrainReport report = block.impl_->train_steps(steps, progress, stop, 0, -1, 0);
  block.impl_->group = nullptr;
  return report;
}

std::vector<bool> TrainerRanks::call_off_unless_all_accept(const RowSource* rows,
                                                           const std::vector<std::pair<int64_t, int64_t>>& blocks) {
  const int world = world_size();
  std::vector<bool> accepted(size_t(world), false), reads_row_files(size_t(world), true);
  std::string refusals;
  for (int r = 1; r < world; ++r) {
    std::string answer = group_->receive(r);
    if (rows && !answer.empty() && answer[0] == kSendRowFiles) {
      size_t at = 1;
      while (at < answer.size()) {
        const int64_t t = read_int(answer, &at);
        if (t < 0 || t >= blocks[size_t(r)].second - blocks[size_t(r)].first)
          throw std::runtime_error("rank " + std::to_string(r) + " asked for the row file of a head not in its block");
        send_row_file(*rows, blocks[size_t(r)].first + t, r);
      }
      answer = group_->receive(r);
    }
    accepted[size_t(r)] = answer == std::string(1, kAccepted) || answer == std::string(1, kAcceptedReadingRowFiles);
    reads_row_files[size_t(r)] = answer == std::string(1, kAcceptedReadingRowFiles);
    if (accepted[size_t(r)]) continue;
    if (!refusals.empty()) refusals += "; ";
    refusals += answer.size() > 1 && answer[0] == kRefused ? answer.substr(1)
                                                           : "rank " + std::to_string(r) + " answered out of turn";
  }
  for (int r = 1; r < world; ++r)
    if (accepted[size_t(r)]) group_->send(refusals.empty() ? kGo : kCallOff, r);
  if (!refusals.empty()) throw std::runtime_error("a rank refused its block: " + refusals);
  return reads_row_files;
}

TrainReport TrainerRanks::train_budget(Crosscoder& cc, int64_t steps,
                                       const std::function<void(int64_t, double)>& progress,
                                       const std::atomic<bool>* stop) {
  std::lock_guard<std::mutex> lock(mu_);
  const int world = world_size();
  if (!cc.impl_->options.use_sparse_path || training_device(cc.impl_->options.device).is_cuda())
    return cc.impl_->train_steps(steps, progress, stop, 0, -1, 0);  // the dense step has no group
  if (world == 1 || cc.n_snapshots() < world) {
    SoleRank sole;  // all heads here, with the ranks' arithmetic
    return train_block(cc, &sole, steps, progress, stop);
  }
  try {
    if (!group_) {
      rendezvous_->open_generation(++generation_);
      group_ = rendezvous_->join(generation_);
      rendezvous_->mark_generation(generation_, "formed");
    }
    rendezvous_->post_job(generation_);
    const int64_t n = cc.n_snapshots();
    const bool streamed = cc.streamed();
    std::vector<std::pair<int64_t, int64_t>> blocks;
    for (int r = 0; r < world; ++r) blocks.push_back(block_of(n, world, r));
    for (int r = 1; r < world; ++r) {
      const auto [begin, end] = blocks[size_t(r)];
      std::vector<std::string> row_files;
      for (int64_t t = begin; streamed && t < end; ++t) row_files.push_back(cc.impl_->streamed->source().file_of(t));
      group_->send(pack(cc.head_block(begin, end), steps, streamed ? &row_files : nullptr), r);
    }
    const std::vector<bool> reads_row_files =
        call_off_unless_all_accept(streamed ? &cc.impl_->streamed->source() : nullptr, blocks);
    const auto [begin, end] = blocks[0];
    Crosscoder own = cc.head_block(begin, end);
    const ScatteredRows* scattered = nullptr;
    if (streamed) {
      std::vector<bool> sent;
      for (bool reads : reads_row_files) sent.push_back(!reads);
      auto rows = std::make_unique<ScatteredRows>(cc.impl_->streamed->source(), cc.impl_->scales,
                                                  cc.impl_->per_row(), *group_, blocks, sent);
      scattered = rows.get();
      own.impl_->block_rows = std::move(rows);
      ranks_reading_row_files_ = int(std::count(reads_row_files.begin() + 1, reads_row_files.end(), true));
    }
    const TrainReport report = train_block(own, group_.get(), steps, progress, stop);
    if (scattered) row_bytes_sent_ += scattered->bytes_sent();
    std::vector<Crosscoder> trained;
    for (int r = 1; r < world; ++r) trained.push_back(Crosscoder::deserialize(group_->receive(r)));
    cc.put_head_block(own, begin);
    for (int r = 1; r < world; ++r) cc.put_head_block(trained[size_t(r - 1)], blocks[size_t(r)].first);
    return report;
  } catch (const std::exception& e) {
    group_.reset();
    try {
      rendezvous_->mark_generation(generation_, "closed");
    } catch (const std::exception&) {
      // The store is this process's own: it does not fail while we run.
    }
    throw TrainerRanksError(std::string("trainer ranks (generation ") + std::to_string(generation_) +
                             "): the budget was not trained: " + e.what());
  }
}

void TrainerRanks::serve_rank(const HeadGroupAddress& address, const std::function<void(const std::string&)>& log,
                              const RowFileAccess& access) {
  if (address.rank < 1 || address.rank >= address.world_size)
    throw std::invalid_argument("trainer rank " + std::to_string(address.rank) + " is not in [1, " +
                                std::to_string(address.world_size) + ")");
  Rendezvous rendezvous(address);
  const std::string me = "rank " + std::to_string(address.rank) + " of " + std::to_string(address.world_size);
  int64_t tried = -1;
  while (true) {
    bool stop = false;
    try {
      stop = rendezvous.stopped();
    } catch (const std::exception& e) {
      throw std::runtime_error(me + ": rank 0's store at " + address.host + ":" + std::to_string(address.port) +
                               " is gone: the daemon stopped or died (" + e.what() + ")");
    }
    if (stop) return log(me + ": rank 0 said stop");
    const int64_t generation = rendezvous.current_generation();
    if (generation < 0 || generation == tried || rendezvous.generation_state(generation) != "joining") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    tried = generation;
    try {
      auto group = rendezvous.join(generation);
      log(me + ": joined generation " + std::to_string(generation));
      int64_t done = 0;
      bool said_why_rows_are_sent = false;  // once a generation, not every budget
      while (!rendezvous.stopped() && rendezvous.current_generation() == generation) {
        if (rendezvous.jobs(generation) <= done) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        ++done;
        const std::string message = group->receive(0);
        std::optional<ReceivedBlock> received;
        try {
          received.emplace(unpack(message, group.get(), access));
        } catch (const std::exception& e) {  // a state that will not load throws torch's own errors too
          log(me + ": refused a block: " + e.what());
          group->send(std::string(1, kRefused) + me + ": " + e.what(), 0);
          continue;
        }
        if (const std::vector<int64_t> lacking = received->lacking(access); !lacking.empty()) {
          std::string ask(1, kSendRowFiles);
          for (int64_t t : lacking) append(&ask, t);
          group->send(ask, 0);
          copy_row_files(*received, lacking, group.get(), access);
          log(me + ": copied " + std::to_string(lacking.size()) + " row file(s) from rank 0");
        }
        if (!received->why_rows_are_sent.empty() && !said_why_rows_are_sent) {
          log(me + ": rank 0 sends this rank its streamed rows (" + received->why_rows_are_sent + ")");
          said_why_rows_are_sent = true;
        }
        group->send(std::string(1, received->reads_row_files ? kAcceptedReadingRowFiles : kAccepted), 0);
        if (group->receive(0) != kGo) {
          log(me + ": rank 0 called the budget off (another rank refused its block)");
          continue;
        }
        train_block(received->block, group.get(), received->steps, nullptr);
        group->send(received->block.serialize(), 0);
        prune_row_files(*received, access, me, log);
      }
    } catch (const std::exception& e) {
      log(me + ": generation " + std::to_string(generation) + " failed (" + e.what() + "); waiting for the next");
    }
  }
}

}  // namespace cw
