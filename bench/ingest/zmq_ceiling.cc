#include "bench/ingest/zmq_ceiling.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kSmallFrameBytes = 128;  // about a Cap'n Proto begin/end message
constexpr std::size_t kAckBytes = 64;

// The receiving half, on its own thread and ZeroMQ context like a separate
// daemon process: acks the first frame (the handshake, as the daemon acks a
// Hello), then counts frames and acks every `frames_per_snapshot`.
class AckingRouter {
 public:
  AckingRouter(uint32_t frames_per_snapshot, uint64_t total_frames)
      : frames_per_snapshot_(frames_per_snapshot), total_frames_(total_frames) {
    // Socket options as conceptwatchd's ingest socket.
    socket_.set(zmq::sockopt::linger, 1000);
    socket_.set(zmq::sockopt::sndhwm, 100000);
    socket_.set(zmq::sockopt::rcvhwm, 256);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { serve(); });
  }
  ~AckingRouter() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  // Empty unless the router thread failed.
  std::string error() const { return failed_ ? error_ : std::string(); }

 private:
  void serve() {
    try {
      const std::string ack(kAckBytes, 'a');
      uint64_t frames = 0;
      bool greeted = false;
      zmq::message_t identity, payload;
      while (!stop_ && frames < total_frames_) {
        zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::poll(items, 1, std::chrono::milliseconds(50));
        while (socket_.recv(identity, zmq::recv_flags::dontwait)) {
          if (!socket_.recv(payload)) throw std::runtime_error("ROUTER got an envelope without a payload");
          if (!greeted || ++frames % frames_per_snapshot_ == 0) {
            greeted = true;
            socket_.send(zmq::buffer(identity.data(), identity.size()), zmq::send_flags::sndmore);
            socket_.send(zmq::buffer(ack), zmq::send_flags::none);
          }
        }
      }
    } catch (const std::exception& e) {
      error_ = e.what();
      failed_ = true;
    }
  }

  const uint32_t frames_per_snapshot_;
  const uint64_t total_frames_;
  zmq::context_t context_;
  zmq::socket_t socket_{context_, zmq::socket_type::router};
  std::string endpoint_;
  std::string error_;  // written before failed_ is set
  std::atomic<bool> failed_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void no_free(void*, void*) {}  // chunks point into the caller's array

}  // namespace

double run_zmq_ceiling(const BenchData& data, uint32_t count, uint64_t chunk_bytes, int max_in_flight) {
  const uint64_t bytes = data.bytes();
  const uint32_t chunks = uint32_t(std::max<uint64_t>(1, (bytes + chunk_bytes - 1) / chunk_bytes));
  const uint32_t frames_per_snapshot = chunks + 2;
  AckingRouter router(frames_per_snapshot, uint64_t(frames_per_snapshot) * count);

  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  // Socket options as the publisher's.
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::immediate, 1);
  dealer.set(zmq::sockopt::sndhwm, 64);
  dealer.set(zmq::sockopt::rcvhwm, 10000);
  dealer.connect(router.endpoint());

  // Handshake first (set-up is not throughput), as the publisher's Hello.
  const std::string small(kSmallFrameBytes, 's');
  zmq::message_t reply;
  dealer.set(zmq::sockopt::sndtimeo, 10000);
  dealer.set(zmq::sockopt::rcvtimeo, 10000);
  if (!dealer.send(zmq::buffer(small), zmq::send_flags::none) || !dealer.recv(reply)) {
    throw std::runtime_error("ZeroMQ ceiling: no handshake with " + router.endpoint() + ": " + router.error());
  }

  const auto start = Clock::now();
  auto last_progress = start;
  uint32_t next_snapshot = 0, acked = 0, frame_in_snapshot = 0;
  while (acked < count) {
    bool progress = false;
    while (next_snapshot < count && next_snapshot < acked + uint32_t(max_in_flight)) {
      bool sent;
      if (frame_in_snapshot == 0 || frame_in_snapshot == frames_per_snapshot - 1) {
        sent = dealer.send(zmq::buffer(small), zmq::send_flags::dontwait).has_value();
      } else {
        const uint64_t offset = uint64_t(frame_in_snapshot - 1) * chunk_bytes;
        const uint64_t size = std::min(chunk_bytes, bytes - offset);
        zmq::message_t chunk(const_cast<char*>(data.array.data()) + offset, size, no_free, nullptr);
        sent = dealer.send(chunk, zmq::send_flags::dontwait).has_value();
      }
      if (!sent) break;
      progress = true;
      if (++frame_in_snapshot == frames_per_snapshot) {
        frame_in_snapshot = 0;
        ++next_snapshot;
      }
    }
    while (dealer.recv(reply, zmq::recv_flags::dontwait)) {
      ++acked;
      progress = true;
    }
    if (!router.error().empty()) throw std::runtime_error("ZeroMQ ceiling: " + router.error());
    if (progress) {
      last_progress = Clock::now();
    } else {
      if (Clock::now() - last_progress > std::chrono::seconds(60)) {
        throw std::runtime_error("ZeroMQ ceiling: no progress for 60 s (" + std::to_string(acked) + " of " +
                                 std::to_string(count) + " acked)");
      }
      zmq::pollitem_t items[] = {{dealer.handle(), 0, short(ZMQ_POLLIN | ZMQ_POLLOUT), 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(100));
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace cw::bench
