#include "examples/tinygpt/logging_sink.h"

#include <cmath>
#include <iomanip>

namespace cw {

double rms(const MatrixView& view) {
  const uint64_t n = view.rows * view.cols;
  if (n == 0) return 0;
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) sum += double(view.data[i]) * view.data[i];
  return std::sqrt(sum / double(n));
}

void LoggingSink::on_probe_set(const ProbeDescription& probe) {
  out_ << "[sink] probe set: run " << probe.run << ", " << probe.token_ids.size() / probe.sequence_length
       << " sequences x " << probe.sequence_length << " tokens, vocab " << probe.vocabulary.size() << ", taps";
  for (const auto& tap : probe.taps) out_ << " " << tap.name << "(" << tap.d_model << ")";
  for (const auto& task : probe.tasks) out_ << ", task " << task.name << " (" << task.metric << ")";
  out_ << "\n";
}

void LoggingSink::on_snapshot(const Snapshot& snapshot) {
  out_ << "[sink] snapshot step " << snapshot.step << " tokens " << snapshot.tokens_seen;
  for (const auto& [name, view] : snapshot.taps) {
    out_ << " " << name << "[" << view.rows << "x" << view.cols << "] rms " << std::setprecision(3) << rms(view);
  }
  for (const auto& [name, value] : snapshot.scalars) out_ << " " << name << "=" << std::setprecision(4) << value;
  out_ << "\n";
}

void LoggingSink::on_task_probe(const TaskProbeResult& result) {
  out_ << "[sink] task " << result.task << " step " << result.step << " tap " << result.tap << " metric "
       << std::setprecision(4) << result.metric << " |grad| rms " << std::setprecision(3) << rms(result.gradient)
       << "\n";
}

}  // namespace cw
