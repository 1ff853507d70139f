// A strict reader of the Prometheus text exposition format (0.0.4), written
// for the tests so that it does not share code with the writer
// (observe/prometheus_text.h). It refuses what Prometheus would refuse and
// also what is legal but sloppy: a sample before its family's HELP and
// TYPE, HELP or TYPE twice, a family's samples split up, a counter not
// named *_total, an invalid metric or label name, a bad escape, a repeated
// series, a histogram whose buckets are not cumulative or lack +Inf, _sum
// or _count, blank lines and other comments.
#ifndef CW_TESTS_OBSERVE_PROMETHEUS_TEXT_PARSER_H_
#define CW_TESTS_OBSERVE_PROMETHEUS_TEXT_PARSER_H_

#include <map>
#include <string>
#include <vector>

namespace cw::testing {

struct ParsedSample {
  std::string name;  // the sample's own name (F_bucket, F_sum, ... for a histogram F)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ParsedFamily {
  std::string name, type, help;
  std::vector<ParsedSample> samples;
};

// Throws std::runtime_error naming the line and what is wrong with it.
std::map<std::string, ParsedFamily> parse_prometheus_text(const std::string& text);

// The value of the sample of `family` named `name` (default: the family's
// name) with exactly these labels; throws if there is none.
double sample_value(const std::map<std::string, ParsedFamily>& families, const std::string& family,
                    const std::map<std::string, std::string>& labels = {}, const std::string& name = "");

}  // namespace cw::testing

#endif  // CW_TESTS_OBSERVE_PROMETHEUS_TEXT_PARSER_H_
