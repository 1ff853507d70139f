// Where a streamed crosscoder reads its probe rows from (torch-free): the
// raw float32 activations of one probe token at one snapshot, read on
// demand, so that training and analysis never hold every snapshot
// (Crosscoder::stream_from; docs/ARCHITECTURE.md "Trainer pool and memory
// cap"). The daemon's implementation reads per-snapshot files beside the
// store (analysis/stored_rows.h).
//
// Contract:
// - snapshot t of the source is the crosscoder's snapshot t (oldest first);
//   every snapshot has n_tokens() rows of d_model() floats, and row i is the
//   same probe token at every snapshot.
// - reads return the raw (un-normalised) values exactly as stored, whatever
//   rows are asked together: a row read alone or in a batch is the same
//   bits (so a streamed crosscoder trains as the in-memory one does).
// - reads are const and may be called from one thread at a time per
//   crosscoder; they hold no memory beyond the caller's `out` (the
//   operating system's page cache is the cache: it is not the process's).
// - errors throw std::runtime_error naming the snapshot.
#ifndef CW_CROSSCODER_ROW_SOURCE_H_
#define CW_CROSSCODER_ROW_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cw {

class RowSource {
 public:
  virtual ~RowSource() = default;

  virtual int64_t n_snapshots() const = 0;
  virtual int64_t n_tokens() const = 0;
  virtual int64_t d_model() const = 0;
  // Rows rows[0..count) of `snapshot`, in that order, into out [count × d_model].
  virtual void read_rows(int64_t snapshot, const int64_t* rows, int64_t count, float* out) const = 0;
  // Rows [begin, end) of `snapshot` into out [(end − begin) × d_model].
  virtual void read_range(int64_t snapshot, int64_t begin, int64_t end, float* out) const = 0;
  // A file another process on this machine can read `snapshot`'s rows
  // from, as raw float32 [n_tokens × d_model] and nothing else (a trainer
  // rank reads its own heads' rows there: crosscoder/trainer_ranks.h), or
  // empty when there is none (the rank is then sent them).
  virtual std::string file_of(int64_t /*snapshot*/) const { return {}; }
};

// How a process other than the daemon (a trainer rank) reaches a streamed
// crosscoder's row files (RowSource::file_of; crosscoder/trainer_ranks.h).
// `open`: rank 0's files, by path, or this process's own copies of them, as
// one source; throws when any cannot be opened. `keep` (optional): writes
// this process's copy of `file` from the raw float32 bytes `next_bytes`
// gives (until it returns false), where `open` finds it afterwards; throws
// when it cannot. Without `open` a rank is sent its rows every step.
// `prune` (optional): removes this process's copies that no `open` has
// read for longer than it keeps them, and the least recently read beyond
// the bytes it keeps, except those of the files `in_use`; returns the names
// removed; throws when the copies cannot be listed or one cannot be
// removed.
struct RowFileAccess {
  std::function<std::shared_ptr<const RowSource>(const std::vector<std::string>& files, int64_t n_tokens,
                                                 int64_t d_model)>
      open;
  std::function<void(const std::string& file, const std::function<bool(std::string*)>& next_bytes)> keep;
  std::function<std::vector<std::string>(const std::vector<std::string>& in_use)> prune;
};

}  // namespace cw

#endif  // CW_CROSSCODER_ROW_SOURCE_H_
