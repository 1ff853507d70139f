// The paper's training phases, read from the training loss against the
// probe set's entropies (entropy.h; Ge et al. 2025, "What the paper found"):
//   initialization        loss above the unigram entropy H1 — the model does
//                         not yet know even the token frequencies;
//   statistical-learning  loss at or below H1 but not clearly below the
//                         conditional bigram entropy H2 — it is learning
//                         (and plateaus near) n-gram statistics;
//   feature-learning      loss clearly below H2 — it must be using context
//                         beyond the previous token, i.e. features.
// Precisely: two Schmitt triggers, one per entropy E with tolerance
// tol = relative_tolerance · E. "Below E" switches on when loss < E − tol and
// off when loss > E + tol; at the first snapshot it is simply loss < E.
// The phase is feature-learning if below H2, else statistical-learning if
// below H1, else initialization. The band ±tol keeps a noisy loss sitting on
// an entropy (the paper's plateau at H2) from flickering between labels and
// makes "approaching H2" still statistical learning. A relative tolerance
// (default 2%) is used because entropies range from ~2 nats (characters) to
// ~7 nats (BPE tokens).
#ifndef CW_DETECT_PHASE_H_
#define CW_DETECT_PHASE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cw {

enum class TrainingPhase { kInitialization, kStatisticalLearning, kFeatureLearning };
// "initialization", "statistical-learning", "feature-learning"
const char* to_string(TrainingPhase phase);

struct PhaseOptions {
  double relative_tolerance = 0.02;
};

// A switch is confirmed when the loss leaves the band, and dated where the
// loss last crossed the entropy on its way there: a loss sitting on the
// line (the paper's plateau at H2) crosses it more than once, and the
// crossing it did not come back from is the one that counts.
struct PhaseChange {
  TrainingPhase phase = TrainingPhase::kInitialization;  // the phase entered
  size_t snapshot = 0;  // where the loss crossed the entropy
  uint64_t step = 0;
  double loss = 0;      // at that crossing
  size_t confirmed_snapshot = 0;  // where it left the band (the label switched)
  uint64_t confirmed_step = 0;
};

class PhaseLabeller {
 public:
  // Entropies in nats (the loss must be in nats too). Throws
  // std::invalid_argument on non-positive or non-finite entropies.
  PhaseLabeller(double unigram_entropy, double bigram_entropy, PhaseOptions options = {});

  // The phase at this snapshot. Throws std::invalid_argument on a non-finite loss.
  TrainingPhase observe(uint64_t step, double loss);

  TrainingPhase phase() const { return phase_; }
  // The phase entered at snapshot 0, then every switch, in order.
  const std::vector<PhaseChange>& changes() const { return changes_; }

 private:
  struct Crossing {
    size_t snapshot = 0;
    uint64_t step = 0;
    double loss = 0;
  };
  struct Boundary {
    double entropy = 0, tolerance = 0;
    bool below = false;       // the trigger's state
    bool loss_below = false;  // the latest loss's side of the entropy
    Crossing crossed;         // where the loss last changed side
    // True when the trigger switched.
    bool update(double loss, bool first, const Crossing& now);
  };

  Boundary unigram_, bigram_;
  TrainingPhase phase_ = TrainingPhase::kInitialization;
  size_t snapshots_ = 0;
  std::vector<PhaseChange> changes_;
};

// Labels a whole loss series (one label per snapshot; steps are not needed).
std::vector<TrainingPhase> label_phases(const std::vector<double>& loss, double unigram_entropy,
                                        double bigram_entropy, const PhaseOptions& options = {});

}  // namespace cw

#endif  // CW_DETECT_PHASE_H_
