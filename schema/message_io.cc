#include "schema/message_io.h"

#include <kj/exception.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace cw {

IncomingMessage::IncomingMessage(const void* data, std::size_t size, std::size_t max_bytes) {
  if (size == 0 || size % sizeof(capnp::word) != 0) {
    throw WireError("frame of " + std::to_string(size) +
                    " bytes is not a Cap'n Proto message (length must be a non-zero multiple of 8)");
  }
  if (size > max_bytes) {
    throw WireError("frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                    std::to_string(max_bytes) + " bytes");
  }
  const auto* words = static_cast<const capnp::word*>(data);
  if (reinterpret_cast<std::uintptr_t>(data) % alignof(capnp::word) != 0) {
    copy_ = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
    std::memcpy(copy_.begin(), data, size);
    words = copy_.begin();
  }
  capnp::ReaderOptions options;
  // In proportion to the frame, as the store's records (record_codec.cc):
  // Cap'n Proto charges an element of a list of empty structs one word, so
  // with a limit of max_bytes a 336-byte Hello decoded into 8 million taps
  // (1.7 s and 590 MB in the fuzz build; fuzz/frame_fuzzer.cc found it).
  options.traversalLimitInWords = std::min(max_bytes / sizeof(capnp::word) + 1, 64 * (size / sizeof(capnp::word)) + 1024);
  try {
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(
        kj::ArrayPtr<const capnp::word>(words, size / sizeof(capnp::word)), options);
    root_ = reader_->getRoot<wire::Message>();
    if (root_.getVersion() != wire::WIRE_VERSION) {
      throw WireError("wire version " + std::to_string(root_.getVersion()) + " is not supported (this peer speaks " +
                      std::to_string(wire::WIRE_VERSION) + ")");
    }
    root_.getBody().which();
  } catch (const kj::Exception& e) {
    throw WireError(std::string("unreadable Cap'n Proto message: ") + e.getDescription().cStr());
  }
}

kj::Array<capnp::word> encode_message(capnp::MessageBuilder& builder) { return capnp::messageToFlatArray(builder); }

std::string encode_message_bytes(capnp::MessageBuilder& builder) {
  auto words = encode_message(builder);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Frame build_frame(const std::function<void(wire::Message::Body::Builder)>& fill, unsigned first_segment_words) {
  capnp::MallocMessageBuilder builder(first_segment_words);
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  fill(message.getBody());
  return encode_message_bytes(builder);
}

}  // namespace cw
