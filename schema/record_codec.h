// Conversions between the plain records (records.h) and their Cap'n Proto
// form, on the wire and in the store.
#ifndef CW_SCHEMA_RECORD_CODEC_H_
#define CW_SCHEMA_RECORD_CODEC_H_

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "schema/conceptwatch.capnp.h"
#include "schema/message_io.h"
#include "schema/records.h"

namespace cw {

void write_hello(const RunDescription& run, wire::Hello::Builder out);
RunDescription read_hello(wire::Hello::Reader in);

void write_snapshot_id(const SnapshotKey& key, wire::SnapshotId::Builder out);
SnapshotKey read_snapshot_id(wire::SnapshotId::Reader in);

void write_scalars(const Scalars& scalars, capnp::List<wire::Scalar>::Builder out);
Scalars read_scalars(capnp::List<wire::Scalar>::Reader in);

// A snapshot's metadata as the wire's SnapshotBegin and the store's
// SnapshotRecord both hold it (the same fields under the same names): one
// writer and one reader serve both. The reader does not check the dtype.
template <typename Builder>
void write_snapshot_fields(const SnapshotMeta& meta, Builder out) {
  write_snapshot_id(meta.key, out.initId());
  out.setTokensSeen(meta.tokens_seen);
  write_scalars(meta.scalars, out.initScalars(meta.scalars.size()));
  out.setNTokens(meta.n_tokens);
  out.setDModel(meta.d_model);
  out.setDtype(to_wire(meta.dtype));
}

template <typename Reader>
void read_snapshot_fields(Reader in, SnapshotMeta* meta) {
  meta->key = read_snapshot_id(in.getId());
  meta->tokens_seen = in.getTokensSeen();
  meta->scalars = read_scalars(in.getScalars());
  meta->n_tokens = in.getNTokens();
  meta->d_model = in.getDModel();
  meta->dtype = from_wire(in.getDtype());
}

// Stand-alone byte strings for the store. Decoders copy the bytes into an
// aligned buffer first (RocksDB values are not 8-byte aligned) and throw
// std::runtime_error on corrupt values.

// Decodes a stored record of root type `Root`; `read` extracts the value
// from the root. Every stored Cap'n Proto record is read through here.
template <typename Root, typename Fn>
auto decode_record(std::string_view bytes, const char* what, Fn read) {
  if (bytes.size() % sizeof(capnp::word) != 0) {
    throw std::runtime_error(std::string("corrupt ") + what + " record: size " + std::to_string(bytes.size()));
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 64 * words.size() + 1024;  // fields may be read more than once
    capnp::FlatArrayMessageReader reader(words, options);
    return read(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    throw std::runtime_error(std::string("corrupt ") + what + " record: " + e.getDescription().cStr());
  }
}

// A run as the store keeps it: the description without the probe's tokens.
struct RunRecordFields {
  RunDescription description;  // probe.token_ids and vocabulary are empty
  uint64_t probe_hash = 0;
  uint64_t n_probe_tokens = 0;
  uint64_t created_unix_ms = 0;
};
std::string encode_run_record(const RunDescription& run, uint64_t created_unix_ms);
RunRecordFields decode_run_record(std::string_view bytes);
std::string encode_probe_set(const ProbeSet& probe);
ProbeSet decode_probe_set(std::string_view bytes);
std::string encode_snapshot_meta(const SnapshotMeta& meta);
SnapshotMeta decode_snapshot_meta(std::string_view bytes);

}  // namespace cw

#endif  // CW_SCHEMA_RECORD_CODEC_H_
