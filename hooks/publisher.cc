#include "hooks/publisher.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "auth/handshake_monitor.h"
#include "hooks/page_buffer.h"
#include "hooks/wake_signal.h"
#include "schema/checksum.h"
#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/run_checks.h"
#include "schema/snapshot_frames.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;

// Replies are small; anything larger is garbage from a confused peer.
constexpr std::size_t kMaxReplyBytes = 1 << 20;

struct QueuedSnapshot {
  SnapshotMeta meta;
  PageBuffer data;
  std::atomic<bool> evicted{false};
  // Sender-thread state.
  std::unique_ptr<SnapshotFrames> frames;
  uint32_t next_frame = 0;
  bool fully_sent = false;
  Clock::time_point sent_at;
  Clock::time_point not_before;  // the daemon said busy: wait before re-sending
  std::chrono::milliseconds retry_wait{0};  // the last such wait; doubles at each refusal
};

void check_snapshot(const RunDescription& run, const SnapshotMeta& meta) {
  if (auto problem = check_snapshot_meta(run, run.probe.n_tokens(), meta)) {
    throw std::invalid_argument("conceptwatch: snapshot " + meta.key.describe() + ": " + problem->message);
  }
}

}  // namespace

class Publisher::Sender {
 public:
  Sender(RunDescription run, PublisherOptions options)
      : run_(std::move(run)), options_(std::move(options)), probe_hash_(run_.probe.hash()), socket_(context_, zmq::socket_type::dealer) {
    if (auto error = check_run(run_); !error.empty()) {
      throw std::invalid_argument("conceptwatch: run '" + run_.run + "': " + error);
    }
    hello_frame_ = encode_hello_frame(run_);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::immediate, 1);  // no queueing into a connection that is not up
    socket_.set(zmq::sockopt::sndhwm, 64);
    socket_.set(zmq::sockopt::rcvhwm, 10000);
    socket_.set(zmq::sockopt::reconnect_ivl, 100);
    socket_.set(zmq::sockopt::reconnect_ivl_max, int(options_.max_reconnect_wait.count()));
    use_client_keys(socket_.handle(), options_.keys);
    handshakes_ = std::make_unique<HandshakeMonitor>(context_.handle(), socket_.handle(), options_.endpoint, "ingest",
                                                     options_.keys.curve());
    socket_.connect(options_.endpoint);
    thread_ = std::thread([this] { loop(); });
  }

  ~Sender() {
    flush(options_.close_timeout);
    stop_ = true;
    wake_.notify();
    thread_.join();
  }

  bool enqueue(const SnapshotMeta& meta, const void* data) {
    const auto start = Clock::now();
    check_snapshot(run_, meta);
    if (quota_refused_) {  // the run's Hello is over a quota: nothing of it will be stored
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.rejected;
      return false;
    }
    auto item = std::make_shared<QueuedSnapshot>();
    item->meta = meta;
    const uint64_t bytes = meta.bytes();
    std::unique_lock<std::mutex> lock(mu_);
    if (bytes > options_.max_queue_bytes) {
      ++stats_.dropped;
      return false;
    }
    item->data = take_buffer(bytes);
    lock.unlock();
    std::memcpy(item->data.data(), data, bytes);  // the one copy
    lock.lock();
    const auto deadline = start + options_.block_timeout;
    while (stats_.queued_bytes + bytes > options_.max_queue_bytes) {
      if (options_.when_full == WhenFull::kBlock && Clock::now() < deadline) {
        changed_.wait_until(lock, deadline);
        continue;
      }
      evict_oldest();
    }
    queue_.push_back(item);
    stats_.queued_bytes += bytes;
    ++stats_.published;
    stats_.queued = queue_.size();
    const uint64_t took = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    if (took > stats_.max_publish_ns) stats_.max_publish_ns = took;
    lock.unlock();
    wake_.notify();
    return true;
  }

  bool flush(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [this] { return queue_.empty(); });
  }

  PublisherStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  const RunDescription& run() const { return run_; }

 private:
  // Requires mu_.
  PageBuffer take_buffer(uint64_t bytes) {
    for (auto it = spare_.begin(); it != spare_.end(); ++it) {
      if (it->size() == bytes) {
        PageBuffer buffer = std::move(*it);
        spare_.erase(it);
        return buffer;
      }
    }
    return PageBuffer(bytes);
  }

  // Requires mu_. The sender may still be sending it; it notices `evicted`.
  void evict_oldest() {
    auto item = queue_.front();
    queue_.pop_front();
    item->evicted = true;
    stats_.queued_bytes -= item->meta.bytes();
    ++stats_.dropped;
    stats_.queued = queue_.size();
  }

  // Requires mu_. Recycles acknowledged buffers so publish() copies into
  // memory that is already mapped.
  void retire(const std::shared_ptr<QueuedSnapshot>& item) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (*it == item) {
        queue_.erase(it);
        stats_.queued_bytes -= item->meta.bytes();
        break;
      }
    }
    stats_.queued = queue_.size();
    if (spare_.size() < 4) spare_.push_back(std::move(item->data));
    changed_.notify_all();
  }

  void loop() {
    // Named so that `top -H`, a profiler or /proc/PID/task/*/comm can tell
    // conceptwatch's thread from the job's own (15 characters at most).
    pthread_setname_np(pthread_self(), "cw-publisher");
    // SCHED_BATCH: woken by publish(), the sender must not preempt the
    // training thread that woke it (it would checksum and encode the
    // snapshot first: publish() of 64 MiB took 1.5 ms longer at p50).
    sched_param batch{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    auto hello_sent_at = Clock::time_point();
    // How long to sleep in poll when a frame could not be sent (the
    // connection is down, or ZeroMQ's high-water mark is reached): doubling
    // from 1 ms while it stays so, so that a daemon that is down costs ~10
    // wake-ups a second, not 200.
    int blocked_wait_ms = 1;
    while (!stop_) {
      const SendState state = hello_acked_ ? send_some() : SendState::kNothingToSend;
      int wait_ms = kIdleWaitMs;
      if (state == SendState::kProgress) {
        wait_ms = 0;
        blocked_wait_ms = 1;
      } else if (state == SendState::kBlocked) {
        wait_ms = blocked_wait_ms;
        blocked_wait_ms = std::min(2 * blocked_wait_ms, kIdleWaitMs);
      }
      // Unanswered, the Hello goes again every 500 ms; refused over a quota,
      // every quota_retry_wait (a run may have been deleted, or the quota
      // raised, since).
      const auto hello_wait = quota_refused_ ? options_.quota_retry_wait : std::chrono::milliseconds(500);
      if (!hello_acked_ && Clock::now() - hello_sent_at > hello_wait) {
        if (try_send(hello_frame_)) hello_sent_at = Clock::now();
      }
      receive_replies(wait_ms);
      resend_timed_out();
      report_refused_handshake();
    }
  }

  // A refused key looks like a daemon that is down; say which it is, once
  // per new reason.
  void report_refused_handshake() {
    const std::string failure = handshakes_->failure();
    if (!failure.empty() && failure != handshake_failure_) note_error(failure);
    handshake_failure_ = failure;
  }

  bool try_send(const Frame& frame) {
    zmq::message_t message(frame.data(), frame.size());
    try {
      return socket_.send(message, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      return false;
    }
  }

  // Idle, the sender sleeps until a reply, a publish() (wake_) or this: the
  // Hello is re-sent every 500 ms and acks time out after seconds, so 100 ms
  // is fine-grained enough for both.
  static constexpr int kIdleWaitMs = 100;

  enum class SendState { kProgress, kBlocked, kNothingToSend };

  // Sends a few frames of the snapshots in flight.
  SendState send_some() {
    std::vector<std::shared_ptr<QueuedSnapshot>> flight;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& item : queue_) {
        if (int(flight.size()) >= options_.max_in_flight) break;
        flight.push_back(item);
      }
    }
    bool progress = false;
    for (const auto& item : flight) {
      if (item->fully_sent || item->evicted || Clock::now() < item->not_before) continue;
      if (!item->frames) {
        item->meta.checksum = checksum64(item->data.data(), item->data.size());
        item->frames = std::make_unique<SnapshotFrames>(item->meta, item->data.data(), probe_hash_,
                                                        std::min(options_.chunk_bytes, chunk_limit_));
      }
      for (int budget = 0; budget < 4 && item->next_frame < item->frames->frame_count(); ++budget) {
        if (!try_send(item->frames->frame(item->next_frame))) return progress ? SendState::kProgress : SendState::kBlocked;
        ++item->next_frame;
        progress = true;
      }
      if (item->next_frame == item->frames->frame_count()) {
        item->fully_sent = true;
        item->sent_at = Clock::now();
      }
    }
    return progress ? SendState::kProgress : SendState::kNothingToSend;
  }

  void restart(QueuedSnapshot& item) {
    item.next_frame = 0;
    item.fully_sent = false;
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.resent;
  }

  void resend_timed_out() {
    std::vector<std::shared_ptr<QueuedSnapshot>> items;
    {
      std::lock_guard<std::mutex> lock(mu_);
      items.assign(queue_.begin(), queue_.end());
    }
    const auto now = Clock::now();
    for (const auto& item : items) {
      if (item->fully_sent && now - item->sent_at > options_.ack_timeout) restart(*item);
    }
  }

  std::shared_ptr<QueuedSnapshot> find(const SnapshotKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& item : queue_)
      if (item->meta.key == key) return item;
    return nullptr;
  }

  void receive_replies(int timeout_ms) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_.fd(), ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, std::chrono::milliseconds(timeout_ms));
    if (items[1].revents & ZMQ_POLLIN) wake_.clear();
    zmq::message_t message;
    while (socket_.recv(message, zmq::recv_flags::dontwait)) handle_reply(message);
  }

  void handle_reply(const zmq::message_t& message) {
    try {
      IncomingMessage in(message.data(), message.size(), kMaxReplyBytes);
      auto body = in.get().getBody();
      if (body.isAck()) {
        const auto ack = read_ack(body.getAck());
        if (const auto* hello = std::get_if<HelloAck>(&ack)) {
          hello_acked_ = true;
          quota_refused_ = false;  // taken after all: publish() queues again
          // Frames larger than the daemon takes would be dropped by ZeroMQ
          // without a word: size chunks to fit, with room for the header.
          if (const uint64_t limit = hello->max_frame_bytes; limit > 0) {
            chunk_limit_ = limit > (64u << 10) ? limit - (32u << 10) : limit / 2;
          }
          std::lock_guard<std::mutex> lock(mu_);
          stats_.hello_acked = true;
          return;
        }
        const auto& stored = std::get<SnapshotAck>(ack);
        if (auto item = find(stored.key)) {
          std::lock_guard<std::mutex> lock(mu_);
          ++stats_.acked;
          if (stored.duplicate) ++stats_.duplicates;
          stats_.store_unavailable = false;
          stats_.retry_wait_ms = 0;
          retire(item);
        }
      } else if (body.isError()) {
        handle_error(read_error(body.getError()));
      }
    } catch (const std::exception& e) {
      note_error(std::string("unreadable reply from the daemon: ") + e.what());
    } catch (const kj::Exception& e) {
      note_error(std::string("unreadable reply from the daemon: ") + e.getDescription().cStr());
    }
  }

  void handle_error(const ErrorReply& error) {
    const std::string& message = error.message;
    const auto code = error.code;
    if (code == wire::ErrorCode::UNKNOWN_RUN) {  // the daemon lost or never had our Hello
      hello_acked_ = false;
      std::vector<std::shared_ptr<QueuedSnapshot>> items;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.hello_acked = false;
        items.assign(queue_.begin(), queue_.end());
      }
      for (const auto& item : items) {
        if (item->next_frame > 0) restart(*item);
      }
      return;
    }
    if (code == wire::ErrorCode::QUOTA_EXCEEDED && !error.snapshot) {
      // The Hello is over a quota of the daemon (runs, taps per run): sent
      // again at once it would be refused again. Drop what is queued; the
      // Hello is tried again every quota_retry_wait.
      note_error(message);
      quota_refused_ = true;
      hello_acked_ = false;
      std::lock_guard<std::mutex> lock(mu_);
      while (!queue_.empty()) {
        ++stats_.rejected;
        const std::shared_ptr<QueuedSnapshot> item = queue_.front();  // retire() erases the queue's copy
        retire(item);
      }
      return;
    }
    if (!error.snapshot) {
      note_error(message);
      return;
    }
    auto item = find(*error.snapshot);
    if (!item) return;
    if (code == wire::ErrorCode::UNKNOWN_SNAPSHOT) {  // the daemon restarted mid-snapshot
      if (item->next_frame > 0) restart(*item);
      return;
    }
    if (code == wire::ErrorCode::BUSY || code == wire::ErrorCode::INTERNAL) {  // transient: later
      item->retry_wait = item->retry_wait.count() == 0 ? options_.retry_wait
                                                       : std::min(2 * item->retry_wait, options_.max_retry_wait);
      item->not_before = Clock::now() + item->retry_wait;
      item->frames.reset();  // re-sized chunks if the limit changed
      restart(*item);
      if (error.store_unavailable) note_error(message);
      std::lock_guard<std::mutex> lock(mu_);
      stats_.store_unavailable = error.store_unavailable;
      stats_.retry_wait_ms = uint64_t(item->retry_wait.count());
      return;
    }
    note_error(message);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.rejected;
    retire(item);
  }

  void note_error(const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (reported_errors_++ < 5) std::fprintf(stderr, "conceptwatch: daemon: %s\n", message.c_str());
    stats_.last_error = message;
  }

  const RunDescription run_;
  const PublisherOptions options_;
  const uint64_t probe_hash_;
  Frame hello_frame_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // queue shrank
  WakeSignal wake_;                  // a snapshot was queued, or stop_ set
  std::deque<std::shared_ptr<QueuedSnapshot>> queue_;  // oldest first
  std::vector<PageBuffer> spare_;
  PublisherStats stats_;
  int reported_errors_ = 0;

  // Sender thread only.
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::unique_ptr<HandshakeMonitor> handshakes_;  // closes before socket_
  std::string handshake_failure_;
  bool hello_acked_ = false;
  std::atomic<bool> quota_refused_{false};  // the Hello got quotaExceeded: refuse snapshots until one is acked
  uint64_t chunk_limit_ = UINT64_MAX;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Publisher::Publisher(RunDescription run, PublisherOptions options)
    : sender_(std::make_unique<Sender>(std::move(run), std::move(options))) {}
Publisher::~Publisher() = default;
bool Publisher::publish(const SnapshotMeta& meta, const void* data) { return sender_->enqueue(meta, data); }
bool Publisher::flush(std::chrono::milliseconds timeout) { return sender_->flush(timeout); }
PublisherStats Publisher::stats() const { return sender_->stats(); }
const RunDescription& Publisher::run() const { return sender_->run(); }

}  // namespace cw
