// Thousands of small taps from one peer, for what must stay bounded however
// many there are (trainer threads, memory, the size of `status`): the test
// of issue 11's trainer pool and the `status` benchmark share it.
#ifndef CW_TESTS_SUPPORT_MANY_RUNS_H_
#define CW_TESTS_SUPPORT_MANY_RUNS_H_

#include <functional>
#include <string>
#include <vector>

namespace cw::testing {

// Registers `runs` runs named run0, run1, ... with `taps` taps each (d_model
// 8, 16 probe tokens) and sends one snapshot of each tap at step 1, 100 runs
// at a time before reading their acks (within the replies a peer may have
// queued). `after_batch(runs so far)` is called once each batch is acked.
// Throws std::runtime_error on a reply that is not an ack, or none in 30 s.
void publish_many_runs(const std::string& ingest_endpoint, int runs, const std::vector<std::string>& taps,
                       const std::function<void(int)>& after_batch = nullptr);

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_MANY_RUNS_H_
