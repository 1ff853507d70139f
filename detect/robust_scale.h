// Robust location and noise scale of a series, shared by the change-point
// detectors so that they all read "how big is a move" the same way.
//
// The noise scale is the MAD of first differences / sqrt(2) (after removing
// their median): unlike the MAD of the values it is not inflated by level
// shifts or by a linear trend, so a series that changes inside the warm-up,
// or drifts, still gets the scale of its noise.
#ifndef CW_DETECT_ROBUST_SCALE_H_
#define CW_DETECT_ROBUST_SCALE_H_

#include <vector>

namespace cw {

// Median of the values (mean of the two middle ones for an even count).
// Throws std::invalid_argument when empty.
double median(std::vector<double> values);

// Noise standard deviation estimated from first differences, never below
// `min_scale`, nor below 1e-9 * max(1, |median|) so that a constant series
// still yields a usable, positive scale. Needs at least one value.
double robust_noise_scale(const std::vector<double>& values, double min_scale = 0.0);

}  // namespace cw

#endif  // CW_DETECT_ROBUST_SCALE_H_
