#include "detect/phase.h"

#include <cmath>
#include <stdexcept>

namespace cw {

const char* to_string(TrainingPhase phase) {
  switch (phase) {
    case TrainingPhase::kInitialization: return "initialization";
    case TrainingPhase::kStatisticalLearning: return "statistical-learning";
    case TrainingPhase::kFeatureLearning: return "feature-learning";
  }
  return "unknown";
}

bool PhaseLabeller::Boundary::update(double loss, bool first, const Crossing& now) {
  const bool side = loss < entropy;
  if (first || side != loss_below) crossed = now;
  loss_below = side;
  const bool was = below;
  if (first)
    below = side;
  else if (below && loss > entropy + tolerance)
    below = false;
  else if (!below && loss < entropy - tolerance)
    below = true;
  return !first && below != was;
}

PhaseLabeller::PhaseLabeller(double unigram_entropy, double bigram_entropy, PhaseOptions options) {
  if (!(std::isfinite(unigram_entropy) && unigram_entropy > 0 && std::isfinite(bigram_entropy) && bigram_entropy > 0))
    throw std::invalid_argument("PhaseLabeller: entropies must be positive and finite (nats)");
  if (!(options.relative_tolerance >= 0 && options.relative_tolerance < 1))
    throw std::invalid_argument("PhaseLabeller: relative_tolerance must be in [0, 1)");
  unigram_.entropy = unigram_entropy;
  unigram_.tolerance = options.relative_tolerance * unigram_entropy;
  bigram_.entropy = bigram_entropy;
  bigram_.tolerance = options.relative_tolerance * bigram_entropy;
}

TrainingPhase PhaseLabeller::observe(uint64_t step, double loss) {
  if (!std::isfinite(loss)) throw std::invalid_argument("PhaseLabeller: training loss must be finite");
  const bool first = snapshots_ == 0;
  const size_t snapshot = snapshots_++;
  const Crossing now{snapshot, step, loss};
  const bool unigram_switched = unigram_.update(loss, first, now);
  const bool bigram_switched = bigram_.update(loss, first, now);
  const TrainingPhase phase = bigram_.below    ? TrainingPhase::kFeatureLearning
                              : unigram_.below ? TrainingPhase::kStatisticalLearning
                                               : TrainingPhase::kInitialization;
  if (first || phase != phase_) {
    const Crossing at = bigram_switched ? bigram_.crossed : unigram_switched ? unigram_.crossed : now;
    changes_.push_back({phase, at.snapshot, at.step, at.loss, snapshot, step});
  }
  phase_ = phase;
  return phase;
}

std::vector<TrainingPhase> label_phases(const std::vector<double>& loss, double unigram_entropy,
                                        double bigram_entropy, const PhaseOptions& options) {
  PhaseLabeller labeller(unigram_entropy, bigram_entropy, options);
  std::vector<TrainingPhase> labels;
  labels.reserve(loss.size());
  for (size_t i = 0; i < loss.size(); ++i) labels.push_back(labeller.observe(i, loss[i]));
  return labels;
}

}  // namespace cw
