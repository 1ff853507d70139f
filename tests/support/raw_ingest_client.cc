#include "tests/support/raw_ingest_client.h"

#include <stdexcept>
#include <zmq.hpp>

#include "schema/message_io.h"
#include "schema/messages.h"

namespace cw::testing {

std::string IngestReply::describe() const {
  if (is_ack) {
    return ack_is_hello ? "ack of hello '" + hello_run + "'"
                        : "ack of " + snapshot.describe() + (duplicate ? " (duplicate)" : "");
  }
  return "error " + std::to_string(uint16_t(code)) + ": " + message;
}

struct RawIngestClient::Rep {
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
};

RawIngestClient::RawIngestClient(const std::string& endpoint) : rep_(std::make_unique<Rep>()) {
  rep_->socket.set(zmq::sockopt::linger, 0);
  rep_->socket.connect(endpoint);
}

RawIngestClient::~RawIngestClient() = default;

void RawIngestClient::send(const std::string& bytes) {
  rep_->socket.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none);
}

std::optional<IngestReply> RawIngestClient::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t items[] = {{rep_->socket.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 1, timeout) == 0) return std::nullopt;
  zmq::message_t message;
  (void)rep_->socket.recv(message, zmq::recv_flags::none);
  IncomingMessage in(message.data(), message.size(), 1 << 20);
  auto body = in.get().getBody();
  IngestReply reply;
  if (body.isAck()) {
    reply.is_ack = true;
    const auto ack = read_ack(body.getAck());
    if (const auto* hello = std::get_if<HelloAck>(&ack)) {
      reply.ack_is_hello = true;
      reply.hello_run = hello->run;
    } else {
      reply.has_snapshot = true;
      reply.snapshot = std::get<SnapshotAck>(ack).key;
      reply.duplicate = std::get<SnapshotAck>(ack).duplicate;
    }
  } else if (body.isError()) {
    const ErrorReply error = read_error(body.getError());
    reply.code = error.code;
    reply.message = error.message;
    reply.has_snapshot = error.snapshot.has_value();
    if (error.snapshot) reply.snapshot = *error.snapshot;
  } else {
    throw std::runtime_error("the ingest socket answered with neither an Ack nor an Error");
  }
  return reply;
}

IngestReply RawIngestClient::exchange(const std::string& bytes, std::chrono::milliseconds timeout) {
  send(bytes);
  auto reply = receive(timeout);
  if (!reply) throw std::runtime_error("no reply from the ingest socket within " + std::to_string(timeout.count()) + " ms");
  return *reply;
}

IngestReply RawIngestClient::exchange_snapshot(const SnapshotFrames& frames, std::chrono::milliseconds timeout) {
  for (uint32_t i = 0; i + 1 < frames.frame_count(); ++i) send(frames.frame(i));
  return exchange(frames.frame(frames.frame_count() - 1), timeout);
}

}  // namespace cw::testing
