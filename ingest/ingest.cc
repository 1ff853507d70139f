#include "ingest/ingest.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>


#include "ingest/hello_merge.h"
#include "ingest/message_limits.h"
#include "schema/checksum.h"
#include "schema/message_io.h"
#include "schema/record_codec.h"
#include "schema/run_checks.h"
#include "schema/unix_time.h"

namespace cw {
namespace {

std::string pending_key(const std::string& peer, const SnapshotKey& key) { return peer + '\x01' + snapshot_key(key); }

// ZeroMQ peer ids are binary: show them as hex.
std::string peer_name(const std::string& peer) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : peer) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

// A reason to refuse a message; becomes an Error reply.
class Ingest::Rejection {
 public:
  Rejection(wire::ErrorCode code, std::string message, const SnapshotKey* key = nullptr)
      : code(code), message(std::move(message)), has_key(key != nullptr && echoable(*key)) {
    if (has_key) this->key = *key;
  }
  // The key goes back to the sender so it can match the error to its
  // snapshot; one with names longer than any valid name cannot be one of a
  // well-behaved sender's, and echoing it would answer megabytes with megabytes.
  static bool echoable(const SnapshotKey& key) {
    constexpr std::size_t kMaxEchoed = 256;
    return key.run.size() <= kMaxEchoed && key.tap.size() <= kMaxEchoed && key.task.size() <= kMaxEchoed;
  }
  // The store refuses writes (a full disk): `busy`, so that every hook
  // keeps the data and re-sends it later, marked so that it can say why
  // and back off further.
  static Rejection store_unavailable(const Store& store, const SnapshotKey* key = nullptr) {
    const StoreWriteState state = store.write_state();
    const std::string message =
        store.read_only()
            ? "this conceptwatchd serves the store '" + store.dir() +
                  "' read-only (it was started with --read-only) and takes no data: restart it without --read-only "
                  "(after `conceptwatch repair --data-dir " + store.dir() +
                  "` if the store is corrupt). Snapshots stay queued in the job and are re-sent"
            : (state.no_space ? "the disk of the daemon's store '" + store.dir() + "' is full"
                              : "the daemon cannot write its store '" + store.dir() + "'") +
                  " (" + state.error +
                  "): it takes no data until its store can be written again, which it tries every second; free "
                  "space on that disk (`conceptwatch status` shows the store's error). Snapshots stay queued in "
                  "the job and are re-sent; nothing acked is lost";
    Rejection rejection(wire::ErrorCode::BUSY, message, key);
    rejection.store = true;
    return rejection;
  }
  Frame frame() const {
    return encode_error_frame({code, message, has_key ? std::optional<SnapshotKey>(key) : std::nullopt, store});
  }
  wire::ErrorCode code;
  std::string message;
  bool has_key;
  SnapshotKey key;
  bool store = false;  // store_unavailable()
};

struct Ingest::Assembly {
  std::string peer;
  uint64_t counted_bytes = 0;     // against the pending limits: the declared size, 0 for a duplicate
  SnapshotMeta meta;
  uint32_t chunk_count = 0;
  uint32_t next_index = 0;
  uint64_t received = 0;
  std::string data;               // grows chunk by chunk; empty for a duplicate: only its checksum is needed
  std::unique_ptr<Checksum64> hash;
  std::optional<SnapshotMeta> existing;
  uint64_t last_activity_ms = 0;
};

Ingest::Ingest(Store& store, IngestLimits limits, RunQuotas quotas)
    : store_(store), limits_(limits), quotas_(quotas), runs_(store), snapshots_(store), usage_(limits) {}
Ingest::~Ingest() = default;

IngestStats Ingest::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

std::vector<Frame> Ingest::handle(const std::string& peer, const void* data, std::size_t size) {
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.frames;
    stats_.bytes += size;
  }
  try {
    return dispatch(peer, data, size);
  } catch (const Rejection& rejection) {
    log_refusal(rejection.store ? "store unavailable" : "refused, code " + std::to_string(int(rejection.code)),
                "refused message from peer " + peer_name(peer) + ": " + rejection.message, rejection.store);
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.errors;
    return {rejection.frame()};
  } catch (const WireError& e) {
    log_refusal("unreadable", std::string("unreadable message: ") + e.what());
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.errors;
    return {Rejection(wire::ErrorCode::MALFORMED, e.what()).frame()};
  } catch (const kj::Exception& e) {
    const std::string reason = std::string("malformed message: ") + e.getDescription().cStr();
    log_refusal("malformed", reason);
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.errors;
    return {Rejection(wire::ErrorCode::MALFORMED, reason).frame()};
  } catch (const StoreWriteError&) {  // e.g. a Hello's write on a full disk
    const Rejection rejection = Rejection::store_unavailable(store_);
    log_refusal("store unavailable", "refused message from peer " + peer_name(peer) + ": " + rejection.message, true);
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.errors;
    return {rejection.frame()};
  } catch (const std::exception& e) {  // e.g. a read failed: the sender will retry
    // Rate-limited too: a full disk fails every frame of every peer.
    log_refusal("internal error", std::string("internal error: ") + e.what(), true);
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.errors;
    return {Rejection(wire::ErrorCode::INTERNAL, std::string("daemon error: ") + e.what()).frame()};
  }
}

Frame Ingest::refuse_envelope(const std::string& peer, const std::string& problem) {
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.frames;
    ++stats_.errors;
  }
  log_refusal("malformed envelope", "refused message from peer " + peer_name(peer) + ": " + problem);
  return Rejection(wire::ErrorCode::MALFORMED, problem).frame();
}

std::vector<Frame> Ingest::dispatch(const std::string& peer, const void* data, std::size_t size) {
  IncomingMessage in(data, size, limits_.max_frame_bytes);
  auto body = in.get().getBody();
  switch (body.which()) {
    case wire::Message::Body::HELLO: {
      // DType is one byte: an unknown wire value must be refused before the cast.
      const auto hello_message = body.getHello();
      if (auto error = check_hello_counts(hello_message, limits_); !error.empty()) {
        throw Rejection(wire::ErrorCode::TOO_LARGE,
                        "hello for run " + quoted_name(to_string(hello_message.getRun())) + ": " + error);
      }
      if (uint16_t(hello_message.getDtype()) > uint16_t(wire::DType::BF16)) {
        throw Rejection(wire::ErrorCode::BAD_DTYPE, "hello for run " + quoted_name(to_string(hello_message.getRun())) +
                                                        ": unknown dtype " + std::to_string(uint16_t(hello_message.getDtype())) +
                                                        "; known: f32 (0), f16 (1), bf16 (2)");
      }
      return hello(read_hello(hello_message));
    }
    case wire::Message::Body::SNAPSHOT_BEGIN:
      if (auto error = check_begin_counts(body.getSnapshotBegin(), limits_); !error.empty()) {
        const SnapshotKey key = read_snapshot_id(body.getSnapshotBegin().getId());
        throw Rejection(wire::ErrorCode::TOO_LARGE, "snapshot " + key.describe() + ": " + error, &key);
      }
      try {
        return begin(peer, read_snapshot_begin(body.getSnapshotBegin()));
      } catch (const UnknownDType& e) {
        throw Rejection(wire::ErrorCode::BAD_DTYPE, e.what(), &e.key);
      }
    case wire::Message::Body::SNAPSHOT_CHUNK:
      return chunk(peer, read_snapshot_chunk(body.getSnapshotChunk()));
    case wire::Message::Body::SNAPSHOT_END:
      return end(peer, read_snapshot_end(body.getSnapshotEnd()));
    case wire::Message::Body::QUERY:
      if (!command_) throw Rejection(wire::ErrorCode::BAD_REQUEST, "this daemon takes no commands on its ingest socket");
      return {encode_reply_frame(command_(read_query(body.getQuery())))};
    default:
      throw Rejection(wire::ErrorCode::BAD_REQUEST, "this socket takes Hello and Snapshot messages only");
  }
}

std::vector<Frame> Ingest::hello(const RunDescription& run) {
  auto refuse = [&](const std::string& why) { throw Rejection(wire::ErrorCode::BAD_REQUEST, "hello for run " + quoted_name(run.run) + ": " + why);
  };
  if (auto error = check_run(run); !error.empty()) refuse(error);
  for (const auto& tap : run.taps) {
    if (tap.d_model > limits_.max_d_model) refuse("tap '" + tap.name + "' has d_model " + std::to_string(tap.d_model));
  }
  const auto& probe = run.probe;
  if (probe.token_ids.size() > limits_.max_probe_tokens) refuse("the probe set has too many tokens");
  if (auto existing = runs_.get(run.run)) {
    usage_of(run.run).last_active_ms = unix_now_ms();
    if (existing->probe_hash != probe.hash()) {
      throw Rejection(wire::ErrorCode::PROBE_MISMATCH,
                      "run " + quoted_name(run.run) + " already exists with a different probe set (stored hash " +
                          std::to_string(existing->probe_hash) + ", this hello " + std::to_string(probe.hash()) +
                          "): use a new run id");
    }
    // The stored vocabulary is read only to compare it with one this Hello brings.
    std::optional<ProbeSet> stored_probe;
    if (!probe.vocabulary.empty()) stored_probe = runs_.probe(run.run);
    HelloMerge merge =
        merge_hello(existing->description, stored_probe ? &stored_probe->vocabulary : nullptr, run);
    if (!merge.conflict.empty()) {
      throw Rejection(wire::ErrorCode::CONFLICT, "hello for run " + quoted_name(run.run) + ": " + merge.conflict);
    }
    // An identical Hello (every restart of a job sends one) writes nothing:
    // each write is synced, and the probe record may be megabytes.
    if (!merge.run_changed && !merge.vocabulary_added) return {encode_hello_ack_frame({run.run, limits_.max_frame_bytes})};
    check_taps_quota(merge.merged);
    if (merge.vocabulary_added) {
      runs_.put(merge.merged, existing->created_unix_ms);
    } else {
      runs_.put_record(merge.merged, existing->created_unix_ms);
    }
    spdlog::info("run '{}' now has {} taps and {} tasks", run.run, merge.merged.taps.size(), merge.merged.tasks.size());
  } else {
    check_taps_quota(run);
    if (quotas_.max_runs > 0 && run_count() >= quotas_.max_runs) {
      throw Rejection(wire::ErrorCode::QUOTA_EXCEEDED,
                      "hello for run " + quoted_name(run.run) + ": the daemon holds " + std::to_string(run_count()) +
                          " runs, its quota ([quotas] max_runs " + std::to_string(quotas_.max_runs) +
                          "): delete a run (conceptwatch delete-run) or raise the quota");
    }
    runs_.put(run, unix_now_ms());
    if (run_count_) ++*run_count_;
    spdlog::info("new run '{}': {} taps, {} probe tokens", run.run, run.taps.size(), probe.n_tokens());
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.hello_writes;
  }
  run_cache_.erase(run.run);
  return {encode_hello_ack_frame({run.run, limits_.max_frame_bytes})};
}

const RunEntry& Ingest::known_run(const std::string& run) {
  auto it = run_cache_.find(run);
  if (it != run_cache_.end()) return it->second;
  auto entry = runs_.get(run);
  if (!entry) throw Rejection(wire::ErrorCode::UNKNOWN_RUN, "unknown run " + quoted_name(run) + ": send Hello first");
  return run_cache_.emplace(run, std::move(*entry)).first->second;
}

std::vector<Frame> Ingest::begin(const std::string& peer, const SnapshotBegin& message) {
  const SnapshotMeta& meta = message.meta;
  const SnapshotKey& key = meta.key;
  const uint64_t total_bytes = message.total_bytes;
  const uint32_t chunk_count = message.chunk_count;
  auto refuse = [&](wire::ErrorCode code, const std::string& why) {
    throw Rejection(code, "snapshot " + key.describe() + ": " + why, &key);
  };
  const RunEntry* run = nullptr;
  try {
    run = &known_run(key.run);
  } catch (Rejection& rejection) {
    rejection.has_key = Rejection::echoable(key);
    if (rejection.has_key) rejection.key = key;
    throw;
  }
  if (auto problem = check_snapshot_meta(run->description, run->n_probe_tokens, meta)) {
    refuse(problem->code, problem->message);
  }
  if (message.probe_hash != run->probe_hash) {
    refuse(wire::ErrorCode::PROBE_MISMATCH, "probe hash " + std::to_string(message.probe_hash) +
                                                " differs from the run's " + std::to_string(run->probe_hash) +
                                                ": the probe set changed");
  }
  if (total_bytes != meta.bytes()) {
    refuse(wire::ErrorCode::BAD_SHAPE, "claims " + std::to_string(total_bytes) + " bytes but its shape and dtype make " +
                                           std::to_string(meta.bytes()));
  }
  if (total_bytes > limits_.max_snapshot_bytes) {
    refuse(wire::ErrorCode::TOO_LARGE, std::to_string(total_bytes) + " bytes exceeds max_snapshot_bytes " +
                                           std::to_string(limits_.max_snapshot_bytes));
  }
  if (chunk_count == 0 || chunk_count > total_bytes / dtype_size(meta.dtype) + 1) {
    refuse(wire::ErrorCode::BAD_CHUNK, "chunk count " + std::to_string(chunk_count) + " is impossible");
  }
  const std::string pkey = pending_key(peer, key);
  if (auto it = pending_.find(pkey); it != pending_.end()) remove_pending(it);  // a re-sent begin restarts the array
  auto assembly = std::make_unique<Assembly>();
  assembly->existing = snapshots_.meta(key);
  // Refused at the begin, so that no array is assembled only to fail; a
  // re-sent array already stored needs no write, and gets its ack.
  if (!assembly->existing && !store_.write_state().writable) throw Rejection::store_unavailable(store_, &key);
  assembly->peer = peer;
  assembly->counted_bytes = assembly->existing ? 0 : total_bytes;
  if (const RunUsage& usage = usage_of(key.run); !assembly->existing && quotas_.max_run_bytes > 0 &&
                                                  usage.bytes + usage.pending_bytes + total_bytes > quotas_.max_run_bytes) {
    refuse(wire::ErrorCode::QUOTA_EXCEEDED, "run " + quoted_name(key.run) + " holds " + std::to_string(usage.bytes) +
                                                " bytes of arrays and " + std::to_string(usage.pending_bytes) +
                                                " in flight; this one's " + std::to_string(total_bytes) +
                                                " would pass its quota ([quotas] max_run_bytes " +
                                                std::to_string(quotas_.max_run_bytes) + "): not stored");
  }
  // BUSY: the publisher retries later.
  if (auto why = usage_.refusal(peer, assembly->counted_bytes); !why.empty()) refuse(wire::ErrorCode::BUSY, why + "; retry later");
  assembly->meta = meta;
  assembly->chunk_count = chunk_count;
  assembly->hash = std::make_unique<Checksum64>();
  assembly->last_activity_ms = unix_now_ms();
  if (!assembly->existing) {
    // Into the last stored array's buffer (already mapped); reserved, not
    // resized: reserving touches no page, so a begin whose chunks never come
    // costs address space, not memory (issue 11: 9 such begins of 1 GiB held
    // 7.5 GB). Chunks arrive in order and are appended.
    assembly->data = std::move(spare_data_);
    assembly->data.clear();
    assembly->data.reserve(total_bytes);
  }
  add_pending(pkey, std::move(assembly));
  return {};
}

std::vector<Frame> Ingest::chunk(const std::string& peer, const SnapshotChunk& message) {
  const SnapshotKey& key = message.key;
  const uint32_t index = message.index;
  const uint64_t offset = message.offset;
  const void* data = message.data;
  const std::size_t size = message.size;
  auto it = pending_.find(pending_key(peer, key));
  if (it == pending_.end()) {
    if (!store_.write_state().writable) return {};  // its begin was refused, with the reason
    throw Rejection(wire::ErrorCode::UNKNOWN_SNAPSHOT, "chunk for snapshot " + key.describe() + " without a begin: re-send it",
                    &key);
  }
  Assembly& assembly = *it->second;
  auto refuse = [&](wire::ErrorCode code, const std::string& why) {
    remove_pending(it);
    throw Rejection(code, "snapshot " + key.describe() + ": " + why, &key);
  };
  const uint64_t total = assembly.meta.bytes();
  if (index != assembly.next_index || offset != assembly.received) {
    refuse(wire::ErrorCode::BAD_CHUNK, "chunk " + std::to_string(index) + " at offset " + std::to_string(offset) +
                                           " out of order (expected " + std::to_string(assembly.next_index) + " at " +
                                           std::to_string(assembly.received) + ")");
  }
  if (size == 0 || offset + size > total || size % dtype_size(assembly.meta.dtype) != 0 ||
      index >= assembly.chunk_count) {
    refuse(wire::ErrorCode::BAD_CHUNK, "chunk " + std::to_string(index) + " of " + std::to_string(size) +
                                           " bytes does not fit the array of " + std::to_string(total) + " bytes");
  }
  const int64_t bad = first_non_finite(assembly.meta.dtype, data, size / dtype_size(assembly.meta.dtype));
  if (bad >= 0) {
    const uint64_t element = offset / dtype_size(assembly.meta.dtype) + uint64_t(bad);
    refuse(wire::ErrorCode::NON_FINITE, "non-finite value (NaN or Inf) at token " +
                                            std::to_string(element / assembly.meta.d_model) + ", dimension " +
                                            std::to_string(element % assembly.meta.d_model));
  }
  assembly.hash->update(data, size);
  if (!assembly.existing) assembly.data.append(static_cast<const char*>(data), size);  // offset == received: checked
  assembly.received += size;
  ++assembly.next_index;
  assembly.last_activity_ms = unix_now_ms();
  return {};
}

std::vector<Frame> Ingest::end(const std::string& peer, const SnapshotEnd& message) {
  const SnapshotKey& key = message.key;
  const uint64_t checksum = message.checksum;
  auto it = pending_.find(pending_key(peer, key));
  if (it == pending_.end()) {
    if (!store_.write_state().writable) return {};  // its begin was refused, with the reason
    throw Rejection(wire::ErrorCode::UNKNOWN_SNAPSHOT, "end of snapshot " + key.describe() + " without a begin: re-send it",
                    &key);
  }
  std::unique_ptr<Assembly> assembly = remove_pending(it);
  auto refuse = [&](wire::ErrorCode code, const std::string& why) {
    throw Rejection(code, "snapshot " + key.describe() + ": " + why, &key);
  };
  if (assembly->received != assembly->meta.bytes() || assembly->next_index != assembly->chunk_count) {
    refuse(wire::ErrorCode::BAD_CHUNK, "ended after " + std::to_string(assembly->received) + " of " +
                                           std::to_string(assembly->meta.bytes()) + " bytes");
  }
  const uint64_t actual = assembly->hash->digest();
  if (actual != checksum) {
    refuse(wire::ErrorCode::CHECKSUM_MISMATCH, "checksum " + std::to_string(actual) + " of the received bytes differs from " +
                                                   std::to_string(checksum));
  }
  if (assembly->existing) {
    if (assembly->existing->checksum != checksum) {
      refuse(wire::ErrorCode::CONFLICT, "already stored with different contents; a step is stored once");
    }
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.duplicates;
    return {encode_snapshot_ack_frame({key, true})};
  }
  assembly->meta.checksum = checksum;
  assembly->meta.received_unix_ms = unix_now_ms();
  try {
    snapshots_.put(assembly->meta, assembly->data);
  } catch (const StoreWriteError&) {
    throw Rejection::store_unavailable(store_, &key);  // not stored, not acked: the hook re-sends it
  }
  RunUsage& usage = usage_of(key.run);
  usage.bytes += assembly->meta.bytes();
  usage.last_active_ms = std::max(usage.last_active_ms, assembly->meta.received_unix_ms);
  spare_data_ = std::move(assembly->data);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.snapshots_stored;
  }
  if (on_stored_) on_stored_(assembly->meta);
  return {encode_snapshot_ack_frame({key, false})};
}

void Ingest::expire(uint64_t now, uint64_t idle_ms) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second->last_activity_ms > idle_ms) {
      // Rate-limited: a peer may leave up to max_pending_arrays behind at once.
      log_refusal("idle partial array", "dropping partial snapshot " + it->second->meta.key.describe() + " idle for " +
                                            std::to_string(now - it->second->last_activity_ms) + " ms");
      remove_pending(it++);
    } else {
      ++it;
    }
  }
  refusal_log_.flush(now);
}

void Ingest::check_taps_quota(const RunDescription& run) {
  if (quotas_.max_taps_per_run == 0 || run.taps.size() <= quotas_.max_taps_per_run) return;
  throw Rejection(wire::ErrorCode::QUOTA_EXCEEDED, "hello for run " + quoted_name(run.run) + ": " +
                                                       std::to_string(run.taps.size()) +
                                                       " taps pass the quota of the daemon ([quotas] max_taps_per_run " +
                                                       std::to_string(quotas_.max_taps_per_run) + ")");
}

Ingest::RunUsage& Ingest::usage_of(const std::string& run) {
  auto it = run_usage_.find(run);
  if (it != run_usage_.end()) return it->second;
  RunUsage usage;
  if (auto entry = runs_.get(run)) usage.last_active_ms = entry->created_unix_ms;
  for (const auto& meta : snapshots_.list_all(run)) {
    usage.bytes += meta.bytes();
    usage.last_active_ms = std::max(usage.last_active_ms, meta.received_unix_ms);
  }
  return run_usage_.emplace(run, usage).first->second;
}

uint64_t Ingest::run_count() {
  if (!run_count_) run_count_ = runs_.list().size();
  return *run_count_;
}

void Ingest::forget_run(const std::string& run) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second->meta.key.run == run) {
      remove_pending(it++);
    } else {
      ++it;
    }
  }
  run_cache_.erase(run);
  run_usage_.erase(run);
  run_count_.reset();  // counted again when next needed
}

std::vector<std::string> Ingest::runs_idle_for(uint64_t now_ms, uint64_t idle_ms) {
  std::vector<std::string> idle;
  for (const auto& entry : runs_.list()) {
    const uint64_t last = usage_of(entry.description.run).last_active_ms;
    if (now_ms > last && now_ms - last > idle_ms) idle.push_back(entry.description.run);
  }
  return idle;
}

void Ingest::add_pending(const std::string& pkey, std::unique_ptr<Assembly> assembly) {
  usage_.add(assembly->peer, assembly->counted_bytes);
  usage_of(assembly->meta.key.run).pending_bytes += assembly->counted_bytes;
  pending_[pkey] = std::move(assembly);
  publish_pending_stats();
}

std::unique_ptr<Ingest::Assembly> Ingest::remove_pending(std::map<std::string, std::unique_ptr<Assembly>>::iterator it) {
  std::unique_ptr<Assembly> assembly = std::move(it->second);
  pending_.erase(it);
  usage_.remove(assembly->peer, assembly->counted_bytes);
  if (auto run = run_usage_.find(assembly->meta.key.run); run != run_usage_.end())
    run->second.pending_bytes -= std::min(run->second.pending_bytes, assembly->counted_bytes);
  publish_pending_stats();
  return assembly;
}

void Ingest::publish_pending_stats() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.pending_snapshots = usage_.arrays();
  stats_.pending_bytes = usage_.bytes();
}

void Ingest::log_refusal(const std::string& reason, const std::string& message, bool is_error) {
  refusal_log_.note(reason, message, unix_now_ms(), is_error);
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.refusals_not_logged = refusal_log_.suppressed_total();
}

}  // namespace cw
