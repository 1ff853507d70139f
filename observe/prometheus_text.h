// Writes the Prometheus text exposition format (version 0.0.4): each family
// once, HELP and TYPE before its samples, label values escaped. It refuses
// (std::invalid_argument) what a strict scraper would refuse: an invalid
// metric or label name, a counter not named *_total, a family declared
// twice, a sample outside a family or of the wrong kind.
#ifndef CW_OBSERVE_PROMETHEUS_TEXT_H_
#define CW_OBSERVE_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cw {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

class PrometheusText {
 public:
  // Starts a family; the samples that follow belong to it.
  void family(const std::string& name, MetricType type, const std::string& help);
  // One counter or gauge sample of the current family.
  void sample(const MetricLabels& labels, double value);
  // One histogram of the current family: name_bucket{le=...} for each bound
  // and +Inf (cumulative counts, the last equal to `count`), name_sum, name_count.
  void histogram(const MetricLabels& labels, const std::vector<double>& upper_bounds,
                 const std::vector<uint64_t>& cumulative, double sum, uint64_t count);

  const std::string& text() const { return text_; }

 private:
  void line(const std::string& name, const MetricLabels& labels, double value);

  std::string text_;
  std::string current_;
  MetricType type_ = MetricType::kGauge;
  std::set<std::string> families_;
};

bool valid_metric_name(const std::string& name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(const std::string& name);   // [a-zA-Z_][a-zA-Z0-9_]*, not __*
// A label value as the format writes it: \ " and newline escaped.
std::string escape_label_value(const std::string& value);
// A sample value: NaN, +Inf, -Inf, else the shortest text that reads back
// as the same double (integers below 2^53 exactly).
std::string format_metric_value(double value);

}  // namespace cw

#endif  // CW_OBSERVE_PROMETHEUS_TEXT_H_
