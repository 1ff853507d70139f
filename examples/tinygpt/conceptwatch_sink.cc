#include "examples/tinygpt/conceptwatch_sink.h"

namespace cw {
namespace {

SnapshotMeta meta_for(const std::string& run, const std::string& tap, uint64_t step, uint64_t tokens_seen,
                      const MatrixView& view) {
  SnapshotMeta meta;
  meta.key = {run, tap, step, ArrayKind::kProbeActivations, ""};
  meta.tokens_seen = tokens_seen;
  meta.n_tokens = uint32_t(view.rows);
  meta.d_model = view.cols;
  meta.dtype = DType::kF32;
  return meta;
}

}  // namespace

ConceptwatchSink::ConceptwatchSink(PublisherOptions options, std::ostream* log) : options_(std::move(options)), log_(log) {}

void ConceptwatchSink::on_probe_set(const ProbeDescription& probe) {
  RunDescription run;
  run.run = probe.run;
  run.dtype = DType::kF32;
  for (const auto& tap : probe.taps) run.taps.push_back({tap.name, tap.d_model});
  run.probe.token_ids = probe.token_ids;
  run.probe.sequence_length = probe.sequence_length;
  run.probe.vocabulary = probe.vocabulary;
  for (const auto& task : probe.tasks) run.tasks.push_back({task.name, task.token_ids, task.sequence_length, task.metric});
  publisher_ = std::make_unique<Publisher>(std::move(run), options_);
  if (log_) *log_ << "conceptwatch: publishing run '" << probe.run << "' to " << options_.endpoint << "\n";
}

void ConceptwatchSink::on_snapshot(const Snapshot& snapshot) {
  for (const auto& [tap, view] : snapshot.taps) {
    SnapshotMeta meta = meta_for(publisher_->run().run, tap, snapshot.step, snapshot.tokens_seen, view);
    meta.scalars = snapshot.scalars;
    publisher_->publish(meta, view.data);
  }
}

void ConceptwatchSink::on_task_probe(const TaskProbeResult& result) {
  SnapshotMeta meta = meta_for(publisher_->run().run, result.tap, result.step, result.tokens_seen, result.activations);
  meta.key.task = result.task;
  meta.scalars = {{"task." + result.task, result.metric}};
  meta.key.kind = ArrayKind::kTaskActivations;
  publisher_->publish(meta, result.activations.data);
  meta.key.kind = ArrayKind::kTaskGradient;
  publisher_->publish(meta, result.gradient.data);
}

void ConceptwatchSink::on_finish() {
  if (!publisher_) return;
  publisher_->flush(options_.close_timeout);
  const PublisherStats s = publisher_->stats();
  if (log_) {
    *log_ << "conceptwatch: published " << s.published << ", stored " << s.acked << ", dropped " << s.dropped
          << ", refused " << s.rejected << ", still queued " << s.queued
          << (s.last_error.empty() ? "" : " (last daemon error: " + s.last_error + ")") << "\n";
  }
}

PublisherStats ConceptwatchSink::stats() const { return publisher_ ? publisher_->stats() : PublisherStats{}; }

}  // namespace cw
