#include "schema/message_io.h"

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

// fuzz/frame_fuzzer.cc's input: a 336-byte Hello whose tap list holds empty
// structs, which Cap'n Proto charges one word each. With the traversal limit
// at max_bytes (64 MiB: 8 million words) it decoded into 8 million taps
// (1.7 s, 590 MB); in proportion to the frame it is refused as it is read.
TEST(MessageIo, ATinyFrameCannotDecodeIntoMillionsOfElements) {
  const std::string frame(
      "\x00\x00\x00\x00\x29\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0d\x00\x00\x00\x5a\x00\x00\x00"
      "\x11\x00\x00\x00\x17\x00\x00\x00\x24\x00\x00\x00\x02\x00\x02\x00\x5d\x00\x00\x00\x27\x00\x00\x00"
      "\x73\x65\x65\x64\x2d\x77\x6f\x72\x64\x73\x00\x00\x00\x00\x00\x02\x00\x02\x00\x01\x00\x00\x00\x00"
      "\x00\x00\x00\x30\x00\x00\x00\x00\x00\x00\x00\x00\xa2\x00\x00\x00\x62\x6c\x6f\x63\x6b\x73\x2e\x30"
      "\x2e\x72\x65\x73\x69\x64\x5f\x70\x6f\x73\x74\x00\x00\x00\x00\x00\x36\x58\xd2\x29\xbb\xc1\xbf\x55"
      "\x03\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x34\x00\x00\x00\x0d\x00\x00\x00\x26\x00\x00\x00"
      "\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x01\x00\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00"
      "\x0d\x00\x00\x00\x22\x00\x00\x00\x0d\x00\x00\x00\x2a\x00\x00\x00\x0d\x00\x00\x00\x2a\x00\x00\x00"
      "\x0d\x00\x00\x00\x32\x00\x00\x00\x74\x68\x65\x00\x00\x00\x00\x00\x20\x63\x61\x74\x00\x00\x00\x00"
      "\x20\x73\x61\x74\x00\x00\x00\x00\xc3\xa9\x74\xc3\xa9\x00\x00\x00\x04\x00\x00\x00\x01\x00\x03\x07"
      "\x02\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x2a\x00\x00\x00\x09\x00\x00\x00\x24\x00\x00\x00"
      "\x0d\x00\x00\x00\x5a\x00\x00\x00\x63\x6f\x70\x79\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
      "\x01\x00\x00\x00\x02\x00\x67\x6c\x69\x00\x6f\x74\x00\x20\x64\x69\x66\x66\x00\x00\x00\x00\x00\x00",
      336);
  IncomingMessage in(frame.data(), frame.size(), 64u << 20);
  ASSERT_TRUE(in.get().getBody().isHello());
  EXPECT_THROW(read_hello(in.get().getBody().getHello()), kj::Exception);
}

}  // namespace
}  // namespace cw
