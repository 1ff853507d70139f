#include "detect/bocpd.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "detect/robust_scale.h"

namespace cw {
namespace {

constexpr double kPi = 3.14159265358979323846;

double log_student_t(double x, double nu, double loc, double scale) {
  const double z = (x - loc) / scale;
  return std::lgamma(0.5 * (nu + 1)) - std::lgamma(0.5 * nu) - 0.5 * std::log(nu * kPi) - std::log(scale) -
         0.5 * (nu + 1) * std::log1p(z * z / nu);
}

double log_cauchy(double x, double loc, double scale) {
  const double z = (x - loc) / scale;
  return -std::log(kPi * scale) - std::log1p(z * z);
}

double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == -std::numeric_limits<double>::infinity()) return a;
  return a + std::log1p(std::exp(b - a));
}

}  // namespace

Bocpd::Bocpd(BocpdOptions options) : options_(options) {
  if (!(options_.hazard > 0 && options_.hazard < 1)) throw std::invalid_argument("Bocpd: hazard must be in (0, 1)");
  if (options_.warmup < 3) throw std::invalid_argument("Bocpd: warmup must be at least 3 values");
  if (options_.min_new_values == 0 || options_.min_new_values > options_.recent_window)
    throw std::invalid_argument("Bocpd: need 1 <= min_new_values <= recent_window");
  if (!(options_.outlier_probability >= 0 && options_.outlier_probability < 1))
    throw std::invalid_argument("Bocpd: outlier_probability must be in [0, 1)");
  if (!(options_.new_segment_width > 0 && options_.prior_alpha > 1 && options_.prior_beta > 0))
    throw std::invalid_argument("Bocpd: need new_segment_width > 0, prior_alpha > 1 (finite noise variance), prior_beta > 0");
  if (options_.max_hypotheses < 2) throw std::invalid_argument("Bocpd: max_hypotheses must be at least 2");
}

double Bocpd::predictive_scale(const Hypothesis& h) const {
  return std::max(std::sqrt(h.beta * (h.kappa + 1) / (h.alpha * h.kappa)), min_std_);
}

double Bocpd::log_predictive(const Hypothesis& h, double z, double* inlier_weight) const {
  const double nu = 2 * h.alpha;
  const double scale = predictive_scale(h);
  const double eps = options_.outlier_probability;
  const double inlier = std::log1p(-eps) + log_student_t(z, nu, h.mean, scale);
  if (eps == 0) {
    *inlier_weight = 1;
    return inlier;
  }
  const double outlier = std::log(eps) + log_cauchy(z, h.mean, options_.outlier_width * scale);
  const double total = log_add(inlier, outlier);
  *inlier_weight = std::exp(inlier - total);
  return total;
}

BocpdStep Bocpd::observe(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("Bocpd: observations must be finite");
  const size_t index = seen_++;
  if (seen_ < options_.warmup) {
    warmup_values_.push_back(value);
    BocpdStep step;
    step.index = index;
    return step;
  }
  if (seen_ > options_.warmup) return update((value - location_) / scale_);

  // End of the warm-up: fit the standardisation, then replay.
  warmup_values_.push_back(value);
  location_ = median(warmup_values_);
  // Units only (later priors follow the data), so err on the wide side: the
  // MAD of a handful of differences can underestimate the noise several-fold,
  // which would make the first segment's prior too narrow and alarm early.
  double sum_sq = 0;
  for (size_t i = 1; i < warmup_values_.size(); ++i)
    sum_sq += (warmup_values_[i] - warmup_values_[i - 1]) * (warmup_values_[i] - warmup_values_[i - 1]);
  const double rms_scale = std::sqrt(sum_sq / (2.0 * static_cast<double>(warmup_values_.size() - 1)));
  scale_ = std::max(robust_noise_scale(warmup_values_, options_.min_scale), rms_scale);
  min_std_ = options_.min_scale / scale_;
  BocpdStep last, replay_alarm;
  bool alarmed = false;
  for (double v : warmup_values_) {
    last = update((v - location_) / scale_);
    if (last.alarm) {
      alarmed = true;
      replay_alarm = last;
    }
  }
  warmup_values_.clear();
  if (alarmed) {
    last.alarm = true;
    last.onset = replay_alarm.onset;
  }
  return last;
}

BocpdStep Bocpd::update(double z) {
  const size_t index = updated_++;
  const double log_hazard = std::log(options_.hazard);
  const double log_survive = std::log1p(-options_.hazard);

  // A new segment starts empty. Its first value is scored by a Cauchy centred
  // on the current most probable segment's level, `new_segment_width` times
  // as wide as that segment's predictive: heavy-tailed, so a big jump is not
  // judged by a Gaussian tail, but less likely than the current segment for
  // values near its level. That value then fixes the segment's mean (a flat
  // prior on the mean: no pull towards the old level), and its noise prior is
  // the current segment's noise variance (empirical Bayes), so the warm-up's
  // few values only set units.
  Hypothesis fresh{0, 0.0, 0.0, options_.prior_alpha, options_.prior_beta, 0.0};
  double fresh_scale = 1;
  if (!hypotheses_.empty()) {
    auto best = std::max_element(hypotheses_.begin(), hypotheses_.end(),
                                 [](const Hypothesis& a, const Hypothesis& b) { return a.log_prob < b.log_prob; });
    fresh.mean = best->mean;
    const double noise_variance = best->beta / (best->alpha - 1);
    fresh.beta = options_.prior_beta * noise_variance / (options_.prior_beta / (options_.prior_alpha - 1));
    fresh_scale = predictive_scale(*best);
    fresh.log_prob = log_hazard;
  }

  std::vector<Hypothesis> next;
  next.reserve(hypotheses_.size() + 1);
  next.push_back(fresh);
  for (const Hypothesis& h : hypotheses_) {
    Hypothesis grown = h;
    grown.log_prob += log_survive;
    next.push_back(grown);
  }

  // Weigh by the predictive, then add the value to each segment's statistics
  // (weighted by how much the Student-t part, not the outlier part, explains it).
  double log_total = -std::numeric_limits<double>::infinity();
  for (Hypothesis& h : next) {
    if (h.count == 0) {
      h.log_prob += log_cauchy(z, h.mean, options_.new_segment_width * fresh_scale);
      h.mean = z;
      h.kappa = 1;
      h.alpha += 0.5;
    } else {
      double w = 1;
      h.log_prob += log_predictive(h, z, &w);
      const double kappa = h.kappa + w;
      h.beta += h.kappa * w * (z - h.mean) * (z - h.mean) / (2 * kappa);
      h.mean = (h.kappa * h.mean + w * z) / kappa;
      h.kappa = kappa;
      h.alpha += 0.5 * w;
    }
    log_total = log_add(log_total, h.log_prob);
    h.count += 1;
  }
  for (Hypothesis& h : next) h.log_prob -= log_total;

  // Bounded memory: drop negligible run lengths, then the least probable.
  const double log_floor = std::log(options_.prune_below);
  double log_best = -std::numeric_limits<double>::infinity();
  for (const Hypothesis& h : next) log_best = std::max(log_best, h.log_prob);
  next.erase(std::remove_if(next.begin(), next.end(),
                            [&](const Hypothesis& h) { return h.log_prob < log_floor && h.log_prob < log_best; }),
             next.end());
  if (next.size() > options_.max_hypotheses) {
    std::vector<double> probs;
    for (const Hypothesis& h : next) probs.push_back(h.log_prob);
    std::nth_element(probs.begin(), probs.begin() + (options_.max_hypotheses - 1), probs.end(), std::greater<double>());
    const double cut = probs[options_.max_hypotheses - 1];
    size_t kept = 0;
    next.erase(std::remove_if(next.begin(), next.end(),
                              [&](const Hypothesis& h) {
                                const bool keep = h.log_prob >= cut && kept < options_.max_hypotheses;
                                kept += keep;
                                return !keep;
                              }),
               next.end());
  }
  double log_kept = -std::numeric_limits<double>::infinity();
  for (const Hypothesis& h : next) log_kept = log_add(log_kept, h.log_prob);
  for (Hypothesis& h : next) h.log_prob -= log_kept;
  hypotheses_ = std::move(next);

  BocpdStep step;
  step.index = index;
  step.ready = true;
  double best_prob = -1, best_recent_prob = -1;
  size_t best_recent_onset = 0;
  for (const Hypothesis& h : hypotheses_) {
    const double p = std::exp(h.log_prob);
    const size_t onset = index + 1 - h.count;
    step.expected_run_length += p * static_cast<double>(h.count);
    if (p > best_prob) {
      best_prob = p;
      step.run_length = h.count;
      step.onset = onset;
    }
    if (h.count <= options_.recent_window && h.count >= options_.min_new_values && onset >= 1) {
      step.change_probability += p;
      if (p > best_recent_prob) {
        best_recent_prob = p;
        best_recent_onset = onset;
      }
    }
  }

  const bool above = step.change_probability >= options_.alarm_threshold;
  // One alarm per change: a rising edge whose onset is not the one (give or
  // take a value) already alarmed on.
  if (above && !above_threshold_ && (!alarmed_before_ || best_recent_onset > last_alarm_onset_ + 1)) {
    step.alarm = true;
    step.onset = best_recent_onset;
    alarmed_before_ = true;
    last_alarm_onset_ = best_recent_onset;
  }
  above_threshold_ = above;
  return step;
}

}  // namespace cw
