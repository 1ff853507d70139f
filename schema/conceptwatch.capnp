# conceptwatch wire format, version 1.
#
# Every ZeroMQ message between hooks, daemon and CLI is one Cap'n Proto
# `Message` (single frame, standard segment framing). Records kept in RocksDB
# use the structs at the end of this file. Bump `wireVersion` on any change
# that an older peer would misread; peers refuse other versions with an error.
@0xc1a8e3f59b2d4a77;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("cw::wire");

const wireVersion :UInt16 = 1;

enum DType {
  f32 @0;
  f16 @1;
  bf16 @2;
}

struct TapSpec {
  name @0 :Text;         # e.g. "blocks.1.resid_post"
  dModel @1 :UInt32;
}

# The paper's corpus C: the same token sequences at every checkpoint.
struct ProbeSet {
  hash @0 :UInt64;            # probeHash(tokenIds, sequenceLength), see schema/checksum.h
  tokenIds @1 :List(UInt32);  # n_sequences * sequenceLength, row-major
  sequenceLength @2 :UInt32;
  vocabulary @3 :List(Text);  # optional: vocabulary[id] is the text of token id
}

# A task probe: token sequences plus a metric the job evaluates.
struct TaskSpec {
  name @0 :Text;
  tokenIds @1 :List(UInt32);
  sequenceLength @2 :UInt32;
  metric @3 :Text;            # human-readable description, e.g. "logit diff"
}

struct Scalar {
  name @0 :Text;
  value @1 :Float64;
}

# Sent once per run (and again whenever the daemon says it does not know the run).
struct Hello {
  run @0 :Text;
  taps @1 :List(TapSpec);
  dtype @2 :DType;
  probe @3 :ProbeSet;
  tasks @4 :List(TaskSpec);
}

# What array a snapshot carries. Probe activations are the crosscoder's input;
# task arrays feed attribution.
enum ArrayKind {
  probeActivations @0;
  taskActivations @1;
  taskGradient @2;
}

struct SnapshotId {
  run @0 :Text;
  tap @1 :Text;
  step @2 :UInt64;
  kind @3 :ArrayKind;
  task @4 :Text;              # empty unless kind is a task array
}

struct SnapshotBegin {
  id @0 :SnapshotId;
  tokensSeen @1 :UInt64;
  scalars @2 :List(Scalar);   # training loss, task metrics, ...
  nTokens @3 :UInt32;
  dModel @4 :UInt32;
  dtype @5 :DType;
  totalBytes @6 :UInt64;      # must equal nTokens * dModel * sizeof(dtype)
  chunkCount @7 :UInt32;
  probeHash @8 :UInt64;       # must equal the run's probe hash
}

struct SnapshotChunk {
  id @0 :SnapshotId;
  index @1 :UInt32;
  offset @2 :UInt64;
  data @3 :Data;              # at most the daemon's max chunk size
}

struct SnapshotEnd {
  id @0 :SnapshotId;
  checksum @1 :UInt64;        # XXH3-64 of the whole array, see schema/checksum.h
}

struct Ack {
  union {
    hello @0 :Text;           # run id
    snapshot @1 :SnapshotId;
  }
  duplicate @2 :Bool;         # the snapshot was already stored; stored once
  maxFrameBytes @3 :UInt64;   # on a Hello ack: the largest frame the daemon takes
}

enum ErrorCode {
  malformed @0;          # not a Cap'n Proto message we can read
  badVersion @1;
  unknownRun @2;         # send Hello first
  unknownTap @3;
  probeMismatch @4;
  badShape @5;
  badDtype @6;
  tooLarge @7;
  badChunk @8;
  unknownSnapshot @9;    # chunk/end without a begin (e.g. the daemon restarted): re-send
  checksumMismatch @10;
  nonFinite @11;
  conflict @12;          # same (run, tap, step) already stored with other bytes
  badRequest @13;
  internal @14;
  busy @15;              # transient (e.g. too many partial arrays): re-send later
  quotaExceeded @16;     # a [quotas] limit of the daemon (runs, taps per run, bytes per run): do not re-send
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  snapshot @2 :SnapshotId;    # set when the error concerns one snapshot
  hasSnapshot @3 :Bool;
  # With code `busy`: the daemon cannot write its store (a full disk, an I/O
  # error) and takes no data until it can; the message says why. A hook
  # keeps its snapshots queued and backs off. Code `busy` rather than a new
  # code, so that a hook from before this field re-sends later too.
  storeUnavailable @4 :Bool;
}

# CLI queries. Parameters and results are JSON objects so that the CLI's
# --json output is the daemon's answer verbatim.
struct Query {
  command @0 :Text;
  params @1 :Text;
}

struct Reply {
  ok @0 :Bool;
  json @1 :Text;
  error @2 :Text;
}

struct Message {
  version @0 :UInt16;
  body :union {
    hello @1 :Hello;
    snapshotBegin @2 :SnapshotBegin;
    snapshotChunk @3 :SnapshotChunk;
    snapshotEnd @4 :SnapshotEnd;
    ack @5 :Ack;
    error @6 :Error;
    query @7 :Query;
    reply @8 :Reply;
  }
}

# ---- Records stored in RocksDB (see docs/STORE.md) ----

struct SnapshotRecord {
  id @0 :SnapshotId;
  tokensSeen @1 :UInt64;
  scalars @2 :List(Scalar);
  nTokens @3 :UInt32;
  dModel @4 :UInt32;
  dtype @5 :DType;
  checksum @6 :UInt64;
  receivedUnixMs @7 :UInt64;
}

struct RunRecord {
  hello @0 :Hello;            # the probe set lives in its own column family
  createdUnixMs @1 :UInt64;
  probeTokens @2 :UInt64;     # size of the probe set, so listing runs never loads it
}

# ---- Analysis records stored in RocksDB, store format 2 (docs/STORE.md) ----
# Each carries `version`: the store format that wrote it. A reader refuses a
# version newer than it knows instead of misreading the record.

# A value of the JSON data model. Metrics, events and transitions are
# documents whose fields belong to the analysis and the queries (the
# queries answer them verbatim; a new measure or event field needs no
# schema change). Integers keep their exact value and signedness, so a
# record reads back as the JSON it was written from; a non-finite number is
# stored as null, as JSON text would have it.
struct JsonValue {
  union {
    null @0 :Void;
    boolean @1 :Bool;
    integer @2 :Int64;      # negative integers (and those built signed)
    unsigned @3 :UInt64;    # non-negative integers
    number @4 :Float64;     # finite
    text @5 :Text;
    array @6 :List(JsonValue);
    object @7 :List(Field);  # in key order
  }
  struct Field {
    name @0 :Text;
    value @1 :JsonValue;
  }
}

# `metrics`, `events` and `transitions`.
struct DocumentRecord {
  version @0 :UInt16;
  document @1 :JsonValue;
}

# `trajectories`: one feature's measures at each snapshot (store/analysis_tables.h).
struct TrajectoryRecord {
  version @0 :UInt16;
  points @1 :List(Point);          # by snapshot, in step order
  topContexts @2 :List(Context);   # at the latest snapshot, strongest first
  struct Point {
    step @0 :UInt64;
    decoderNorm @1 :Float32;
    normalisedNorm @2 :Float32;
    frequency @3 :Float32;
    meanActivation @4 :Float32;
    maxActivation @5 :Float32;
    cosPrevious @6 :Float32;
    cosLatest @7 :Float32;
    contextuality @8 :Float32;
    activationStrength @9 :Float32 = nan;  # NaN: unmeasured
  }
  struct Context {
    tokenIndex @0 :UInt32;
    activation @1 :Float32;
  }
}

# `attribution`: one task's attribution at every snapshot the crosscoder
# held (store/attribution_table.h).
struct AttributionRecord {
  version @0 :UInt16;
  computedUnixMs @1 :UInt64;
  nFeatures @2 :UInt32;            # F
  steps @3 :List(UInt64);          # T, ascending
  metric @4 :List(Float64);        # T; NaN: the hook sent no metric
  linearTotal @5 :List(Float64);   # T; NaN: not known (migrated from before it existed)
  values @6 :List(Float32);        # T × F, row-major by snapshot
}

# `meta`, key "format": the store format of every record above. A store
# without it is format 1 (ad-hoc values) until conceptwatchd migrates it.
struct StoreFormatRecord {
  version @0 :UInt16;
  migratedFrom @1 :UInt16;         # 0: created in this format
  migratedUnixMs @2 :UInt64;
}
