#include "schema/record_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <stdexcept>

#include "schema/message_io.h"

namespace cw {
namespace {

std::vector<uint32_t> read_ids(capnp::List<uint32_t>::Reader in) {
  std::vector<uint32_t> ids(in.size());
  for (unsigned i = 0; i < in.size(); ++i) ids[i] = in[i];
  return ids;
}

void write_ids(const std::vector<uint32_t>& ids, capnp::List<uint32_t>::Builder out) {
  for (unsigned i = 0; i < ids.size(); ++i) out.set(i, ids[i]);
}

void write_probe(const ProbeSet& probe, wire::ProbeSet::Builder out) {
  out.setHash(probe.hash());
  write_ids(probe.token_ids, out.initTokenIds(probe.token_ids.size()));
  out.setSequenceLength(probe.sequence_length);
  auto vocabulary = out.initVocabulary(probe.vocabulary.size());
  for (unsigned i = 0; i < probe.vocabulary.size(); ++i) vocabulary.set(i, probe.vocabulary[i]);
}

ProbeSet read_probe(wire::ProbeSet::Reader in) {
  ProbeSet probe;
  probe.token_ids = read_ids(in.getTokenIds());
  probe.sequence_length = in.getSequenceLength();
  for (auto text : in.getVocabulary()) probe.vocabulary.push_back(to_string(text));
  return probe;
}

}  // namespace

void write_hello(const RunDescription& run, wire::Hello::Builder out) {
  out.setRun(run.run);
  auto taps = out.initTaps(run.taps.size());
  for (unsigned i = 0; i < run.taps.size(); ++i) {
    taps[i].setName(run.taps[i].name);
    taps[i].setDModel(run.taps[i].d_model);
  }
  out.setDtype(to_wire(run.dtype));
  write_probe(run.probe, out.initProbe());
  auto tasks = out.initTasks(run.tasks.size());
  for (unsigned i = 0; i < run.tasks.size(); ++i) {
    tasks[i].setName(run.tasks[i].name);
    write_ids(run.tasks[i].token_ids, tasks[i].initTokenIds(run.tasks[i].token_ids.size()));
    tasks[i].setSequenceLength(run.tasks[i].sequence_length);
    tasks[i].setMetric(run.tasks[i].metric);
  }
}

RunDescription read_hello(wire::Hello::Reader in) {
  RunDescription run;
  run.run = to_string(in.getRun());
  for (auto tap : in.getTaps()) run.taps.push_back({to_string(tap.getName()), tap.getDModel()});
  run.dtype = from_wire(in.getDtype());
  run.probe = read_probe(in.getProbe());
  for (auto task : in.getTasks()) {
    run.tasks.push_back(
        {to_string(task.getName()), read_ids(task.getTokenIds()), task.getSequenceLength(), to_string(task.getMetric())});
  }
  return run;
}

void write_snapshot_id(const SnapshotKey& key, wire::SnapshotId::Builder out) {
  out.setRun(key.run);
  out.setTap(key.tap);
  out.setStep(key.step);
  out.setKind(static_cast<wire::ArrayKind>(key.kind));
  out.setTask(key.task);
}

SnapshotKey read_snapshot_id(wire::SnapshotId::Reader in) {
  // A wire kind past 255 stays unknown (255) instead of wrapping onto a known one.
  const auto kind = static_cast<uint16_t>(in.getKind());
  return {to_string(in.getRun()), to_string(in.getTap()), in.getStep(), static_cast<ArrayKind>(kind > 0xff ? 0xff : kind),
          to_string(in.getTask())};
}

void write_scalars(const Scalars& scalars, capnp::List<wire::Scalar>::Builder out) {
  for (unsigned i = 0; i < scalars.size(); ++i) {
    out[i].setName(scalars[i].first);
    out[i].setValue(scalars[i].second);
  }
}

Scalars read_scalars(capnp::List<wire::Scalar>::Reader in) {
  Scalars scalars;
  for (auto scalar : in) scalars.emplace_back(to_string(scalar.getName()), scalar.getValue());
  return scalars;
}

std::string encode_run_record(const RunDescription& run, uint64_t created_unix_ms) {
  RunDescription without_probe = run;
  without_probe.probe.token_ids.clear();
  without_probe.probe.vocabulary.clear();
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::RunRecord>();
  write_hello(without_probe, record.initHello());
  record.getHello().getProbe().setHash(run.probe.hash());  // the hash of the real probe set
  record.setCreatedUnixMs(created_unix_ms);
  record.setProbeTokens(run.probe.n_tokens());
  return encode_message_bytes(builder);
}

RunRecordFields decode_run_record(std::string_view bytes) {
  return decode_record<wire::RunRecord>(bytes, "run", [](wire::RunRecord::Reader record) {
    RunRecordFields fields;
    fields.description = read_hello(record.getHello());
    fields.probe_hash = record.getHello().getProbe().getHash();
    fields.n_probe_tokens = record.getProbeTokens();
    fields.created_unix_ms = record.getCreatedUnixMs();
    return fields;
  });
}

std::string encode_probe_set(const ProbeSet& probe) {
  capnp::MallocMessageBuilder builder;
  write_probe(probe, builder.initRoot<wire::ProbeSet>());
  return encode_message_bytes(builder);
}

ProbeSet decode_probe_set(std::string_view bytes) {
  return decode_record<wire::ProbeSet>(bytes, "probe set", [](wire::ProbeSet::Reader in) { return read_probe(in); });
}

std::string encode_snapshot_meta(const SnapshotMeta& meta) {
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::SnapshotRecord>();
  write_snapshot_fields(meta, record);
  record.setChecksum(meta.checksum);
  record.setReceivedUnixMs(meta.received_unix_ms);
  return encode_message_bytes(builder);
}

SnapshotMeta decode_snapshot_meta(std::string_view bytes) {
  return decode_record<wire::SnapshotRecord>(bytes, "snapshot", [](wire::SnapshotRecord::Reader in) {
    SnapshotMeta meta;
    read_snapshot_fields(in, &meta);
    meta.checksum = in.getChecksum();
    meta.received_unix_ms = in.getReceivedUnixMs();
    return meta;
  });
}

}  // namespace cw
