#include "analysis/training_footprint.h"

#include <algorithm>

#include "store/row_files.h"

namespace cw {
namespace {

constexpr uint64_t kFloat = 4;
// The analysis passes go over the probe set in chunks of this many floats
// per [rows, snapshots, features] tensor (crosscoder/*.cc: 1 << 22).
constexpr uint64_t kChunkFloats = uint64_t(1) << 22;
// Streamed, of this many floats, bounding the [rows, T, d] input too
// (crosscoder/probe_rows.h kStreamedChunkFloats).
constexpr uint64_t kStreamedChunkFloats = uint64_t(1) << 20;

// W_E, W_D, b_E, b_D and τ, in bytes.
uint64_t parameter_bytes(const CrosscoderOptions& o, uint64_t T) {
  const uint64_t F = uint64_t(o.n_features), d = uint64_t(o.d_model);
  return (2 * T * F * d + T * F + T * d + F) * kFloat;
}

}  // namespace

std::string TrainingFootprint::describe() const {
  return std::string(streamed ? "streamed " : "") + "activations " + std::to_string(activations) + " + state " + std::to_string(state) + " + working " +
         std::to_string(working) + " bytes";
}

uint64_t state_footprint(const CrosscoderOptions& options, int64_t snapshots) {
  // Weights and Adam's two moments (3 P) and Adam's per-latent step counts,
  // plus the stored bytes they are read from (3 P) while a load runs.
  const uint64_t T = uint64_t(std::max<int64_t>(snapshots, 1)), F = uint64_t(options.n_features);
  return 6 * parameter_bytes(options, T) + 8 * T * F;
}

TrainingFootprint training_footprint(const CrosscoderOptions& options, int64_t snapshots, int64_t n_tokens,
                                     bool streamed) {
  const uint64_t T = uint64_t(std::max<int64_t>(snapshots, 1)), N = uint64_t(std::max<int64_t>(n_tokens, 1));
  const uint64_t F = uint64_t(options.n_features), d = uint64_t(options.d_model);
  const uint64_t B = uint64_t(std::max<int64_t>(options.batch_size, 1));
  const uint64_t snapshot = N * d * kFloat;
  TrainingFootprint f;
  f.streamed = streamed;
  // In memory: normalised [N, d] per snapshot; reading one holds its stored
  // bytes, the f32 copy and the tensor normalised from it. Streamed: the
  // stored bytes of one snapshot while its row file is written, and a
  // batch's rows per snapshot [B, d] before they are stacked.
  f.activations = streamed ? snapshot + kRowFileWriteChunkBytes + B * T * d * kFloat : T * snapshot + 3 * snapshot;
  // In training: weights, gradients and Adam's moments (4 P). At the save,
  // the state's bytes and the write batch's copy of them sit beside the
  // weights and moments (3 P + 3 P + 3 P): the peak.
  f.state = 9 * parameter_bytes(options, T) + 8 * T * F;
  // A step's batch ([B, T, d] in, [B, T, F] gates and activations, their
  // gradients), and the analysis' chunks: a few [rows, T, F] tensors of at
  // most kChunkFloats each, and the newest head's residual [N, d].
  // Streamed, the chunks bound the [rows, T, d] input as well, and the
  // input is read per snapshot and stacked: two chunks more.
  const uint64_t chunk = (streamed ? kStreamedChunkFloats : std::min(kChunkFloats, N * T * F)) * kFloat;
  f.working = 4 * B * T * (d + F) * kFloat + (streamed ? 8 : 6) * chunk + 2 * snapshot;
  return f;
}

}  // namespace cw
