#include "fuzz/seed_data.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "ingest/ingest.h"
#include "schema/checksum.h"
#include "schema/snapshot_frames.h"
#include "store/analysis_tables.h"
#include "store/attribution_table.h"

namespace cw::fuzz {
namespace {

constexpr uint64_t kChunkBytes = 48;  // several chunks per array, whole elements of every dtype

RunDescription run(const std::string& name, DType dtype, std::vector<std::string> taps, uint32_t d_model) {
  RunDescription out;
  out.run = name;
  out.dtype = dtype;
  for (auto& tap : taps) out.taps.push_back({std::move(tap), d_model});
  out.probe.sequence_length = 3;
  out.probe.token_ids = {0, 1, 2, 2, 1, 3};
  return out;
}

// Deterministic, finite values of `dtype` for a (tap, step) array.
std::string array_bytes(DType dtype, uint64_t elements, uint64_t seed) {
  std::string out;
  for (uint64_t i = 0; i < elements; ++i) {
    const float value = std::sin(float(seed * 131 + i) * 0.37f);
    if (dtype == DType::kF32) {
      out.append(reinterpret_cast<const char*>(&value), sizeof value);
    } else {  // the seed runs are f32 or bf16
      const uint16_t half = f32_to_bf16(value);
      out.append(reinterpret_cast<const char*>(&half), sizeof half);
    }
  }
  return out;
}

void append_snapshot(const RunDescription& run, const std::string& tap, uint64_t step, ArrayKind kind,
                     const std::string& task, uint32_t n_tokens, std::vector<Frame>* frames) {
  SnapshotMeta meta;
  meta.key = {run.run, tap, step, kind, task};
  meta.tokens_seen = step * 1024;
  meta.scalars = {{"train/loss", 4.0 / double(step + 1)}, {"lr", 3e-4}};
  meta.n_tokens = n_tokens;
  meta.d_model = run.find_tap(tap)->d_model;
  meta.dtype = run.dtype;
  const std::string data = array_bytes(meta.dtype, uint64_t(n_tokens) * meta.d_model, step + tap.size());
  meta.checksum = checksum64(data.data(), data.size());
  SnapshotFrames cut(meta, data.data(), run.probe.hash(), kChunkBytes);
  for (uint32_t i = 0; i < cut.frame_count(); ++i) frames->push_back(cut.frame(i));
}

}  // namespace

std::vector<RunDescription> seed_runs() {
  RunDescription words = run("seed-words", DType::kF32, {"blocks.0.resid_post"}, 4);
  words.probe.vocabulary = {"the", " cat", " sat", "\xc3\xa9t\xc3\xa9"};
  words.tasks.push_back({"copy", {1, 2, 1, 2}, 2, "logit diff"});
  RunDescription halves = run("seed-halves", DType::kBF16, {"blocks.0.attn_out", "blocks.1.mlp_out"}, 8);
  return {words, halves};
}

std::vector<Frame> seed_session(const RunDescription& run) {
  std::vector<Frame> frames = {encode_hello_frame(run)};
  for (const auto& tap : run.taps) {
    for (uint64_t step : {0, 100}) {
      append_snapshot(run, tap.name, step, ArrayKind::kProbeActivations, "", uint32_t(run.probe.n_tokens()), &frames);
      for (const auto& task : run.tasks) {
        for (ArrayKind kind : {ArrayKind::kTaskActivations, ArrayKind::kTaskGradient})
          append_snapshot(run, tap.name, step, kind, task.name, uint32_t(task.token_ids.size()), &frames);
      }
    }
  }
  return frames;
}

void fill_seed_store(Store& store) {
  Ingest ingest(store, IngestLimits{});
  for (const auto& run : seed_runs()) {
    for (const Frame& frame : seed_session(run)) {
      for (const Frame& reply : ingest.handle("seed", frame.data(), frame.size())) {
        IncomingMessage message(reply.data(), reply.size(), reply.size() + 64);
        if (message.get().getBody().isError())
          throw std::runtime_error("seed frame refused: " + read_error(message.get().getBody().getError()).message);
      }
    }
  }
  // What a tap's crosscoder worker records (analysis/tap_worker.cc), with
  // made-up values of the stored shapes.
  const std::string run = "seed-words", tap = "blocks.0.resid_post";
  MetricsTable(store).put(run, tap, {{0, {{"explained_variance", 0.5}, {"l0", 3.0}, {"dead_features", 0.25}}},
                                     {100, {{"explained_variance", 0.8}, {"l0", 2.0}, {"dead_fraction", 0.125}}}});
  std::vector<FeatureTrajectory> features;
  for (uint32_t feature = 0; feature < 3; ++feature) {
    FeatureTrajectory trajectory;
    trajectory.feature = feature;
    for (uint64_t step : {0, 100}) {
      FeaturePoint point;
      point.step = step;
      point.decoder_norm = point.normalised_norm = 0.5f + 0.25f * float(step / 100 + feature);
      point.frequency = 0.1f * float(feature + 1);
      point.activation_strength = step ? 1.0f : 0.2f;
      trajectory.points.push_back(point);
    }
    trajectory.top_contexts = {{feature, 1.5f}, {feature + 1, 0.5f}};
    features.push_back(trajectory);
  }
  TrajectoryTable(store).put(run, tap, features);
  EventLog(store).append(run, {{"type", "emergence"}, {"tap", tap}, {"feature", 1}, {"step", 100}});
  TransitionTable(store).put(run, tap, nlohmann::json::array({{{"step", 100}, {"series", "surprise"}}}));
  AttributionRecord record;
  record.steps = {0, 100};
  record.metric = {0.1, 0.9};
  record.linear_total = {0.05, 0.8};
  record.n_features = 3;
  record.values = {0.0f, 0.1f, 0.0f, 0.2f, 0.6f, 0.0f};
  AttributionTable(store).put(run, tap, "copy", record);
}

std::vector<QueryRequest> seed_queries() {
  return {{"status", ""},
          {"status", R"({"run":"seed-words","taps":true,"limit":1})"},
          {"runs", "{}"},
          {"snapshots", R"({"run":"seed-words"})"},
          {"snapshots", R"({"run":"seed-halves","tap":"blocks.1.mlp_out"})"},
          {"run_description", R"({"run":"seed-words"})"},
          {"crosscoder", R"({"run":"seed-words"})"},
          {"features", R"({"run":"seed-words","tap":"blocks.0.resid_post","sort":"emergence","filter":"all","limit":2})"},
          {"feature", R"({"run":"seed-words","id":1})"},
          {"events", R"({"run":"seed-words","type":"feature","after":0})"},
          {"phases", R"({"run":"seed-words"})"},
          {"attribution", R"({"run":"seed-words","task":"copy","top":2,"step":100})"}};
}

}  // namespace cw::fuzz
