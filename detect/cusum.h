// One-sided CUSUM (Page 1954), the cheap fast path beside BOCPD: it sums
// standardised excesses over a reference level and alarms when the sum passes
// a threshold; the onset is where the sum last left zero.
//
// Units are robust standard deviations. Before each value, the reference is
// the running median and the scale the noise scale of first differences
// (robust_scale.h; while there are <= 20 values, at least their RMS
// difference / sqrt 2) of the values of the current regime within the last
// `scale_window`. Nothing is reported until `warmup` values are known; then
// they are replayed against their own median and scale. Each standardised excess is
// clipped to ±clip before it is summed (a "Huberised" CUSUM), so one spike
// adds at most clip − drift and cannot reach the threshold alone.
// After an alarm a new regime starts at the onset (reference and scale come
// from its values only) and the sums restart: a level that keeps moving
// alarms again.
#ifndef CW_DETECT_CUSUM_H_
#define CW_DETECT_CUSUM_H_

#include <cstddef>
#include <vector>

namespace cw {

enum class CusumDirection { kUp, kDown, kBoth };

struct CusumOptions {
  CusumDirection direction = CusumDirection::kBoth;
  double drift = 1.25;     // k: excess ignored per value (about half the smallest shift of interest)
  double threshold = 5.0;  // h: alarm when a sum exceeds it
  double clip = 3.0;       // largest excess one value may add
  size_t warmup = 6;       // values that set the first reference (>= 3)
  size_t scale_window = 100;
  double min_scale = 0;    // noise floor in series units (e.g. 1 for counts)
};

struct CusumStep {
  size_t index = 0;
  bool ready = false;   // false while the warm-up is being buffered
  double upper = 0;     // S+ after this value
  double lower = 0;     // S- after this value
  bool alarm = false;
  int direction = 0;    // +1 upward, -1 downward, with `alarm`
  size_t onset = 0;     // with `alarm`: first value of the excursion
  double reference = 0; // level the sums were taken against
  double scale = 1;
};

class Cusum {
 public:
  explicit Cusum(CusumOptions options = {});  // throws std::invalid_argument on bad options

  // At the end of the warm-up, the step of the last replayed value (with an
  // alarm raised during the replay, if any).
  CusumStep observe(double value);  // throws std::invalid_argument on a non-finite value

  size_t size() const { return values_.size(); }

 private:
  CusumStep update(size_t index);

  CusumOptions options_;
  std::vector<double> values_;
  double reference_ = 0;
  double upper_ = 0, lower_ = 0;
  size_t upper_start_ = 0, lower_start_ = 0;
  size_t regime_start_ = 0;
};

}  // namespace cw

#endif  // CW_DETECT_CUSUM_H_
