// Reading and writing conceptwatch Messages as single byte frames.
#ifndef CW_SCHEMA_MESSAGE_IO_H_
#define CW_SCHEMA_MESSAGE_IO_H_

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "schema/conceptwatch.capnp.h"
#include "schema/dtype.h"

namespace cw {

// A frame that is not a readable conceptwatch Message.
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A Message read from a frame. Cap'n Proto 0.9 refuses buffers that are not
// 8-byte aligned, and ZeroMQ delivers small frames misaligned: such frames
// are copied once; aligned (large) frames are read in place, so `data` must
// outlive this object.
class IncomingMessage {
 public:
  // Throws WireError if the frame is not a Message of a version we speak.
  IncomingMessage(const void* data, std::size_t size, std::size_t max_bytes);
  IncomingMessage(const IncomingMessage&) = delete;
  IncomingMessage& operator=(const IncomingMessage&) = delete;

  wire::Message::Reader get() const { return root_; }
  bool copied() const { return copy_.size() != 0; }

 private:
  kj::Array<capnp::word> copy_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  wire::Message::Reader root_;
};

// One ZeroMQ message: a serialised conceptwatch Message.
using Frame = std::string;

// Builds a Message of this peer's wire version, lets `fill` set its body and
// serialises it. `first_segment_words` is the builder's first allocation:
// sized to hold a large payload, its bytes are copied once.
Frame build_frame(const std::function<void(wire::Message::Body::Builder)>& fill, unsigned first_segment_words = 1024);

// Serialises a builder into one contiguous, word-aligned array.
kj::Array<capnp::word> encode_message(capnp::MessageBuilder& builder);
// The same as a byte string: frames, and the records the store keeps.
std::string encode_message_bytes(capnp::MessageBuilder& builder);

// Cap'n Proto keeps Text and Data in Readers; these copy out.
inline std::string to_string(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

inline wire::DType to_wire(DType dtype) { return static_cast<wire::DType>(dtype); }
inline DType from_wire(wire::DType dtype) { return static_cast<DType>(dtype); }

}  // namespace cw

#endif  // CW_SCHEMA_MESSAGE_IO_H_
