// The probe rows a crosscoder never trains on: one in `every` (0: none),
// chosen by a hash of the row's index, so that the choice is the same on
// every rank, after every restart and for every snapshot, and does not
// follow the probe set's layout (every 32nd row of sequences 64 long would
// hold out two positions of every sequence). Torch-free.
//
// Why: the daemon trains on the same probe rows for thousands of steps, and
// below ~32 probe tokens per dimension of d_model the crosscoder memorises
// them: on planted streams whose early snapshots are mostly noise it kept
// tens of latents firing per token on the rows it trained on, and on fresh
// rows its explained variance fell 0.15-0.28 below theirs
// (docs/CROSSCODER.md "The probe set is memorised below 32 tokens per
// dimension"). The held-out rows make that visible: evaluate() reports
// their explained variance and L0 next to those of the rows trained on.
#ifndef CW_CROSSCODER_HELD_OUT_ROWS_H_
#define CW_CROSSCODER_HELD_OUT_ROWS_H_

#include <cstdint>

namespace cw {

// The `every` a probe set of n_rows holds out with: 0 when that would hold
// out fewer than 16 rows on average (an explained variance over a handful of
// rows says nothing; the demo's 1,024 tokens hold out 23 at every = 32).
int64_t effective_hold_out_every(int64_t n_rows, int64_t every);

// Whether probe row `row` is held out when one row in `every` is (never
// when every < 2).
bool is_held_out_row(int64_t row, int64_t every);

}  // namespace cw

#endif  // CW_CROSSCODER_HELD_OUT_ROWS_H_
