// PELT (Killick, Fearnhead & Eckley 2012): the exact optimal segmentation of
// a whole series under a penalised cost, in about linear time. Used after the
// fact to confirm and localise what the online detectors alarmed on.
//
// The series is first standardised (median, robust noise scale of first
// differences, robust_scale.h), so the penalty is in units of the noise
// variance and the default needs no tuning per series:
//  - kMean: Normal mean change, cost = residual sum of squares;
//    default penalty 2·log n (BIC: a change adds a location and a mean).
//  - kMeanVariance: Normal mean and variance change, cost = -2 log-likelihood
//    with the segment's variance profiled out (and kept >= variance_floor);
//    default penalty 3·log n.
#ifndef CW_DETECT_PELT_H_
#define CW_DETECT_PELT_H_

#include <cstddef>
#include <vector>

namespace cw {

enum class PeltCost { kMean, kMeanVariance };

struct PeltOptions {
  PeltCost cost = PeltCost::kMean;
  double penalty = -1;            // < 0: the BIC-like default above
  size_t min_segment_length = 2;  // >= 1 (kMeanVariance uses at least 2)
  double min_scale = 0;           // noise floor in series units (e.g. 1 for counts)
  double variance_floor = 1e-2;   // kMeanVariance: smallest segment variance, standard units
};

struct PeltSegment {
  size_t begin = 0, end = 0;  // [begin, end) indices
  double mean = 0;            // in series units
};

struct PeltResult {
  std::vector<size_t> change_points;  // index of each segment's first value, except the first segment
  std::vector<PeltSegment> segments;
  double penalty = 0;                 // the penalty used, standard units
};

// Throws std::invalid_argument on non-finite values or bad options. Series
// shorter than two minimum segments come back as one segment.
PeltResult pelt(const std::vector<double>& values, const PeltOptions& options = {});

}  // namespace cw

#endif  // CW_DETECT_PELT_H_
