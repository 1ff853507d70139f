// Count limits on the lists of a message from the wire, checked on the Cap'n
// Proto reader before anything is decoded. A list's length is in its
// pointer, so a Hello of 64,000 taps or a begin of a million scalars is
// refused without walking, copying or merging them (issue 11: a second
// Hello of 64,000 taps held the serving thread for seconds).
#ifndef CW_INGEST_MESSAGE_LIMITS_H_
#define CW_INGEST_MESSAGE_LIMITS_H_

#include <string>

#include "ingest/ingest_limits.h"
#include "schema/conceptwatch.capnp.h"

namespace cw {

// Why `hello` is too large (taps, tasks, probe tokens, vocabulary, task
// tokens), naming the list, its length and the limit; empty when it fits.
std::string check_hello_counts(wire::Hello::Reader hello, const IngestLimits& limits);

// The same for a snapshot begin's scalars.
std::string check_begin_counts(wire::SnapshotBegin::Reader begin, const IngestLimits& limits);

}  // namespace cw

#endif  // CW_INGEST_MESSAGE_LIMITS_H_
