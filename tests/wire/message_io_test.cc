#include "schema/message_io.h"

#include <capnp/any.h>
#include <gtest/gtest.h>
#include <kj/exception.h>

#include <cstring>
#include <random>
#include <vector>

#include "schema/record_codec.h"

namespace cw {
namespace {

kj::Array<capnp::word> hello_frame() {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  auto hello = message.getBody().initHello();
  hello.setRun("run-1");
  return encode_message(builder);
}

TEST(MessageIo, ReadsMisalignedFramesByCopying) {
  auto frame = hello_frame();
  const auto bytes = frame.asBytes();
  std::vector<unsigned char> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.begin(), bytes.size());
  IncomingMessage in(shifted.data() + 1, bytes.size(), 1 << 20);
  EXPECT_TRUE(in.copied());
  EXPECT_EQ(to_string(in.get().getBody().getHello().getRun()), "run-1");

  IncomingMessage aligned(bytes.begin(), bytes.size(), 1 << 20);
  EXPECT_FALSE(aligned.copied());
}

TEST(MessageIo, RejectsGarbageWithAReason) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> words(64);
  for (auto& w : words) w = rng();
  try {
    IncomingMessage in(words.data(), words.size() * 8, 1 << 20);
    in.get().getBody().which();
    FAIL() << "random bytes were accepted";
  } catch (const WireError& e) {
    EXPECT_NE(std::string(e.what()).size(), 0u);
  }
  EXPECT_THROW(IncomingMessage(words.data(), 13, 1 << 20), WireError);
}

TEST(MessageIo, RejectsOtherVersions) {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(99);
  message.getBody().initHello();
  auto frame = encode_message(builder);
  try {
    IncomingMessage in(frame.begin(), frame.asBytes().size(), 1 << 20);
    FAIL();
  } catch (const WireError& e) {
    EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos);
  }
}

// fuzz/frame_fuzzer.cc found (fuzz/regressions/frame/): a Hello whose tap
// list holds empty structs, which Cap'n Proto charges one word each. With
// the traversal limit at max_bytes (64 MiB: 8 million words) a frame of a
// few words decoded into millions of taps (1.7 s, 590 MB); the limit is now
// in proportion to the frame, so it is refused as it is read.
TEST(MessageIo, ATinyFrameCannotDecodeIntoMillionsOfElements) {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  auto hello = message.getBody().initHello();
  hello.setRun("run-1");
  capnp::AnyStruct::Builder(message.getBody().getHello()).getPointerSection()[1].initAsListOfAnyStruct(0, 0, 1000000);  // taps @1
  auto frame = encode_message(builder);
  ASSERT_LT(frame.asBytes().size(), 128u);
  IncomingMessage in(frame.begin(), frame.asBytes().size(), 64u << 20);
  ASSERT_TRUE(in.get().getBody().isHello());
  EXPECT_THROW(read_hello(in.get().getBody().getHello()), kj::Exception);
}

}  // namespace
}  // namespace cw
