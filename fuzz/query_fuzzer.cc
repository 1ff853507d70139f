// The query socket's decoder and commands (query/query_protocol.h): any
// bytes as a Query frame, answered by the daemon's QueryHandler with the
// analysis and attribution queries, over a store that holds the seed runs
// and their analysis records (seed_data.h). Contract: answer_query_frame
// never throws and always answers a Reply frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fuzz/scratch_store.h"
#include "fuzz/seed_data.h"
#include "query/analysis_queries.h"
#include "query/attribution_query.h"
#include "query/query_protocol.h"

namespace {

struct Served {
  Served() : scratch(~uint64_t(0)), handler(scratch.store()) {
    cw::fuzz::fill_seed_store(scratch.store());
    cw::add_analysis_queries(handler, scratch.store());
    cw::add_attribution_query(handler, scratch.store(), cw::EmergenceOptions{});
  }
  cw::fuzz::ScratchStore scratch;
  cw::QueryHandler handler;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Served served;
  const cw::Frame reply = cw::answer_query_frame(served.handler, data, size);
  cw::IncomingMessage message(reply.data(), reply.size(), reply.size());
  if (!message.get().getBody().isReply()) std::abort();
  return 0;
}
