#include "observe/prometheus_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace cw {
namespace {

bool name_char(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(const std::string& name, bool colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon)) return false;
  return true;
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// HELP text escapes only backslash and newline.
std::string escape_help(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

bool valid_metric_name(const std::string& name) { return valid_name(name, true); }

bool valid_label_name(const std::string& name) { return valid_name(name, false) && name.rfind("__", 0) != 0; }

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest form that reads back as the same double (0.05, not
  // 0.050000000000000003): le labels are compared as text by people.
  char buffer[32];
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {  // 2^53: "600", not "6e+02"
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

void PrometheusText::family(const std::string& name, MetricType type, const std::string& help) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  if (type == MetricType::kCounter && !ends_with(name, "_total"))
    throw std::invalid_argument("counter '" + name + "' must end in _total");
  if (!families_.insert(name).second) throw std::invalid_argument("metric family '" + name + "' declared twice");
  current_ = name;
  type_ = type;
  text_ += "# HELP " + name + " " + escape_help(help) + "\n";
  text_ += "# TYPE " + name + " " + type_name(type) + "\n";
}

void PrometheusText::line(const std::string& name, const MetricLabels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (!valid_label_name(labels[i].first))
        throw std::invalid_argument("invalid label name '" + labels[i].first + "' in " + name);
      text_ += (i ? "," : "") + labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
    }
    text_ += '}';
  }
  text_ += ' ' + format_metric_value(value) + '\n';
}

void PrometheusText::sample(const MetricLabels& labels, double value) {
  if (current_.empty() || type_ == MetricType::kHistogram)
    throw std::invalid_argument("a plain sample needs a counter or gauge family first");
  line(current_, labels, value);
}

void PrometheusText::histogram(const MetricLabels& labels, const std::vector<double>& upper_bounds,
                               const std::vector<uint64_t>& cumulative, double sum, uint64_t count) {
  if (current_.empty() || type_ != MetricType::kHistogram)
    throw std::invalid_argument("histogram samples need a histogram family first");
  if (cumulative.size() != upper_bounds.size() + 1 || cumulative.back() != count)
    throw std::invalid_argument("histogram " + current_ + ": one cumulative count per bound and +Inf, the last = count");
  for (std::size_t i = 0; i <= upper_bounds.size(); ++i) {
    MetricLabels with_le = labels;
    with_le.emplace_back("le", i < upper_bounds.size() ? format_metric_value(upper_bounds[i]) : "+Inf");
    line(current_ + "_bucket", with_le, double(cumulative[i]));
  }
  line(current_ + "_sum", labels, sum);
  line(current_ + "_count", labels, double(count));
}

}  // namespace cw
