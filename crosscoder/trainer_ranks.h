// One crosscoder's training budgets spread over trainer ranks (processes,
// on this machine or others): rank 0 is the daemon, which keeps the whole
// crosscoder for everything that reads every head (growth, recruitment,
// merging, folds, analysis, checkpoints), and for each budget hands every
// other rank a block of contiguous heads with their activations; the
// blocks train as one crosscoder (Crosscoder::head_block) and come back.
// docs/SCALE_OUT.md "Trainer ranks". Torch-free.
#ifndef CW_CROSSCODER_TRAINER_RANKS_H_
#define CW_CROSSCODER_TRAINER_RANKS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "crosscoder/crosscoder.h"
#include "crosscoder/head_group_address.h"
#include "crosscoder/row_source.h"

namespace cw {

class Rendezvous;
class MessageGroup;

// What train_budget throws when the ranks failed it (not the crosscoder).
class TrainerRanksError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TrainerRanks {
 public:
  // Rank 0: serves the ranks' store at address.host:address.port (port 0:
  // any free one, see port()). Does not wait for the ranks: the first
  // budget does. Throws std::runtime_error when the store cannot be served.
  // One rank (world size 1): no store; the daemon trains alone with the
  // ranks' arithmetic, so that it trains as on any number of ranks.
  explicit TrainerRanks(const HeadGroupAddress& address);
  ~TrainerRanks();  // tells the ranks to exit
  int world_size() const;
  int port() const;
  int64_t generation() const;

  // `steps` training steps of `cc` (one budget, as Crosscoder's own
  // training takes it, with no seconds limit) with block r of its heads on
  // rank r. When `stop` is set every rank stops after the current step
  // (the report says interrupted; the blocks are joined back all the
  // same). Budgets of several crosscoders take turns. Throws
  // TrainerRanksError, naming the rank, when a rank fails, is gone, does
  // not join within the address's timeout, or refuses its block (e.g. a
  // rank of another build: each rank answers before any step, in its own
  // words, and rank 0 calls the budget off at once rather than wait for a
  // timeout): `cc` is then unchanged (blocks are written back only once
  // every rank's is back), and the next budget
  // meets the ranks again as a new generation. A streamed crosscoder's
  // rows are read step by step by each rank that can open its heads' row
  // files, and here for the others, which are sent their heads' part of
  // the batch (crosscoder/rows_over_ranks.h). A crosscoder with fewer
  // heads than ranks trains here alone, with the ranks' arithmetic (the
  // same result, to float rounding); one on the dense (GPU) step trains as
  // without ranks.
  TrainReport train_budget(Crosscoder& cc, int64_t steps, const std::function<void(int64_t, double)>& progress,
                           const std::atomic<bool>* stop = nullptr);

  // Rank r > 0: joins the ranks at `address` and trains the blocks rank 0
  // hands it, joining each new generation rank 0 opens, until rank 0 says
  // stop (returns). Throws std::runtime_error when rank 0's store cannot be
  // reached (within address.timeout at start, at once later: the daemon is
  // gone). `log` gets one line per event.
  // A streamed crosscoder's block names its heads' row files
  // (RowSource::file_of). A rank whose `access.open` opens them reads its
  // own rows; one that cannot but can `access.keep` copies asks rank 0 for the
  // files it lacks, once each (a rank on another machine), then reads its
  // copies; any other is sent its rows every step. After each block the
  // copies no block has read for long, and the least recently read beyond
  // the bytes the rank keeps, are removed (`access.prune`).
  static void serve_rank(const HeadGroupAddress& address, const std::function<void(const std::string&)>& log,
                         const RowFileAccess& access = {});

  // Since start: streamed crosscoders' rows rank 0 has sent to ranks step
  // by step, and row files it has sent ranks to copy, in bytes; in the last
  // streamed budget over ranks, how many ranks read their own rows from
  // row files (-1 before one).
  int64_t row_bytes_sent() const { return row_bytes_sent_; }
  int64_t row_file_bytes_sent() const { return row_file_bytes_sent_; }
  int ranks_reading_row_files() const { return ranks_reading_row_files_; }

 private:
  struct ReceivedBlock;
  static std::string pack(const Crosscoder& block, int64_t steps, const std::vector<std::string>* row_files);
  // A streamed block reads its rows from its row files when `access.open`
  // opens them, else receives them batch by batch over `group`. Throws
  // saying why a block cannot be read: std::runtime_error for another
  // layout or version, a wrong size, state and rows that disagree; whatever
  // Crosscoder::deserialize throws for a state that will not load.
  static ReceivedBlock unpack(const std::string& bytes, MessageGroup* group, const RowFileAccess& access);
  // Rank r: the files of `received` it lacks, as rank 0 sends them, kept
  // with access.keep; then its rows are read from the files if it can open
  // them all. Every file is received whole even when keeping one fails.
  static void copy_row_files(ReceivedBlock& received, const std::vector<int64_t>& lacking, MessageGroup* group,
                             const RowFileAccess& access);
  // Rank r, after a block: its row-file copies that no block has read for
  // long are removed (access.prune), except the block's own; failures are
  // logged, not thrown (a copy kept too long costs disk, not training).
  static void prune_row_files(const ReceivedBlock& received, const RowFileAccess& access, const std::string& me,
                              const std::function<void(const std::string&)>& log);
  // Rank 0, once every block is sent: each rank's answer (accepted, or
  // refused and why; a streamed block's rank may first ask for the row
  // files it lacks, sent from `rows`, heads numbered as in `blocks`); go to
  // all when every rank accepted, else call off those that did and throw
  // the refusals. Returns, per rank, whether it reads its own rows (rank
  // 0: true).
  std::vector<bool> call_off_unless_all_accept(const RowSource* rows,
                                               const std::vector<std::pair<int64_t, int64_t>>& blocks);
  // Rank 0: snapshot t of `rows` to rank r as a row file's bytes, in
  // messages of at most kRowFileMessageBytes, then an empty one.
  void send_row_file(const RowSource& rows, int64_t t, int r);
  static TrainReport train_block(Crosscoder& block, MessageGroup* group, int64_t steps,
                                 const std::function<void(int64_t, double)>& progress,
                                 const std::atomic<bool>* stop = nullptr);

  std::mutex mu_;  // one budget at a time over the group
  HeadGroupAddress address_;
  std::unique_ptr<Rendezvous> rendezvous_;  // null for one rank
  std::unique_ptr<MessageGroup> group_;  // null: meet again as the next generation
  int64_t generation_ = -1;
  std::atomic<int64_t> row_bytes_sent_{0}, row_file_bytes_sent_{0};
  std::atomic<int> ranks_reading_row_files_{-1};
};

}  // namespace cw

#endif  // CW_CROSSCODER_TRAINER_RANKS_H_
