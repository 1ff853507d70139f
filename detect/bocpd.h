// Bayesian online change-point detection (Adams & MacKay 2007) on one
// scalar series, one observation at a time.
//
// Model: the series is a sequence of segments; a new one starts before any
// observation with constant hazard H. Inside a segment values are Normal with
// unknown mean and variance under a Normal-Inverse-Gamma prior, so each run
// length predicts the next value with a Student-t. Two departures from the
// textbook, both for snapshot series that are short and spiky:
//  - Scale: the first `warmup` values are buffered and the series is
//    standardised by their median and robust noise scale (robust_scale.h),
//    so the prior (in standard units) fits any series; they are then replayed.
//    A new segment's first value is scored by a Cauchy centred on the current
//    segment's level (heavy-tailed: a big jump is not judged by a Gaussian
//    tail), then fixes the new mean (flat prior on the mean); its noise prior
//    is the current segment's noise variance (empirical Bayes). So a change is
//    judged by its size against the noise seen so far, wherever the level has
//    moved, and a poor warm-up scale estimate does little harm.
//  - Outliers: every predictive is a mixture (1-eps)·Student-t + eps·Cauchy
//    (10x wider), and an observation updates a segment only by the weight the
//    Student-t part explains. A lone spike is then cheaper to explain as an
//    outlier of the current segment than as a new segment; a level that
//    persists is not.
// Run lengths whose probability falls below `prune_below`, and the least
// probable beyond `max_hypotheses`, are dropped, so memory is bounded.
#ifndef CW_DETECT_BOCPD_H_
#define CW_DETECT_BOCPD_H_

#include <cstddef>
#include <vector>

namespace cw {

struct BocpdOptions {
  double hazard = 1.0 / 50;          // prior probability that a segment ends at any observation
  size_t warmup = 6;                 // values used to standardise the series (>= 3)
  size_t recent_window = 5;          // "a change within the last few observations"
  size_t min_new_values = 2;         // a new segment counts once it holds this many values
  double alarm_threshold = 0.9;      // on change_probability
  double outlier_probability = 0.05; // eps of the outlier mixture (0 disables it)
  double outlier_width = 10;         // Cauchy scale / segment's predictive scale
  double min_scale = 0;              // noise floor in series units (e.g. 1 for counts)
  size_t max_hypotheses = 300;
  double prune_below = 1e-10;
  double new_segment_width = 6;      // Cauchy scale of a new segment's first value / current predictive scale
  // Inverse-Gamma prior of a segment's noise variance, in standard units for
  // the first segment (mean beta/(alpha-1) = 1); later segments keep alpha and
  // scale beta to the current segment's noise variance (above).
  double prior_alpha = 2;
  double prior_beta = 1;
};

struct BocpdStep {
  size_t index = 0;                // 0-based position of this observation
  bool ready = false;              // false while the warm-up is being buffered
  size_t run_length = 0;           // most probable length of the current segment (incl. this value)
  double expected_run_length = 0;  // posterior mean of it
  // P(the current segment began within the last recent_window observations,
  // holds at least min_new_values of them, and is not the series' first).
  double change_probability = 0;
  // change_probability crossed alarm_threshold (rising edge), for a change
  // not already alarmed on. At the end of the warm-up, also an alarm raised
  // while replaying it.
  bool alarm = false;
  // Index of the first value of the current segment: of the most probable
  // segment, or, when `alarm`, of the most probable recent one.
  size_t onset = 0;
};

class Bocpd {
 public:
  explicit Bocpd(BocpdOptions options = {});  // throws std::invalid_argument on bad options

  BocpdStep observe(double value);  // throws std::invalid_argument on a non-finite value

  size_t size() const { return seen_; }
  size_t hypotheses() const { return hypotheses_.size(); }  // run lengths kept
  // Standardisation fitted at the end of the warm-up (0 and 1 before).
  double location() const { return location_; }
  double scale() const { return scale_; }

 private:
  struct Hypothesis {
    size_t count;  // values in this segment so far
    double mean, kappa, alpha, beta;
    double log_prob;
  };

  BocpdStep update(double z);  // one standardised value
  double predictive_scale(const Hypothesis& h) const;
  double log_predictive(const Hypothesis& h, double z, double* inlier_weight) const;

  BocpdOptions options_;
  std::vector<double> warmup_values_;
  double location_ = 0, scale_ = 1, min_std_ = 0;
  size_t seen_ = 0;        // values observed (buffered ones included)
  size_t updated_ = 0;     // values run through the recursion
  std::vector<Hypothesis> hypotheses_;  // ordered by count, shortest first
  bool above_threshold_ = false;
  bool alarmed_before_ = false;
  size_t last_alarm_onset_ = 0;
};

}  // namespace cw

#endif  // CW_DETECT_BOCPD_H_
