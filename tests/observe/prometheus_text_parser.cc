#include "tests/observe/prometheus_text_parser.h"

#include <cmath>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace cw::testing {
namespace {

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
const std::regex kFloat("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

double parse_value(const std::string& text) {
  if (text == "NaN") return NAN;
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (!std::regex_match(text, kFloat)) throw std::runtime_error("value '" + text + "' is not a number");
  return std::stod(text);
}

struct Line {
  int number;
  std::string text;
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("line " + std::to_string(number) + " '" + text + "': " + why);
  }
};

// name{a="x",b="y"} value [timestamp]
ParsedSample parse_sample(const Line& line) {
  const std::string& s = line.text;
  ParsedSample sample;
  std::size_t i = 0;
  while (i < s.size() && s[i] != '{' && s[i] != ' ') ++i;
  sample.name = s.substr(0, i);
  if (!std::regex_match(sample.name, kMetricName)) line.fail("invalid metric name");
  if (i < s.size() && s[i] == '{') {
    ++i;
    while (true) {
      if (i < s.size() && s[i] == '}') {
        ++i;
        break;
      }
      std::size_t eq = s.find('=', i);
      if (eq == std::string::npos) line.fail("label without '='");
      const std::string label = s.substr(i, eq - i);
      if (!std::regex_match(label, kLabelName) || label.rfind("__", 0) == 0) line.fail("invalid label name '" + label + "'");
      i = eq + 1;
      if (i >= s.size() || s[i] != '"') line.fail("label value not quoted");
      ++i;
      std::string value;
      while (true) {
        if (i >= s.size()) line.fail("unterminated label value");
        const char c = s[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= s.size()) line.fail("dangling escape");
          const char e = s[i++];
          if (e == '\\') value += '\\';
          else if (e == '"') value += '"';
          else if (e == 'n') value += '\n';
          else line.fail(std::string("invalid escape \\") + e);
        } else if (c == '\n') {
          line.fail("raw newline in a label value");
        } else {
          value += c;
        }
      }
      if (!sample.labels.emplace(label, value).second) line.fail("label '" + label + "' twice");
      if (i < s.size() && s[i] == ',') {
        ++i;
      } else if (i >= s.size() || s[i] != '}') {
        line.fail("expected ',' or '}' after a label");
      }
    }
  }
  if (i >= s.size() || s[i] != ' ') line.fail("expected one space before the value");
  std::istringstream rest(s.substr(i + 1));
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!extra.empty()) line.fail("trailing text");
  if (s.substr(i + 1).front() == ' ') line.fail("more than one space before the value");
  try {
    sample.value = parse_value(value);
  } catch (const std::exception& e) {
    line.fail(e.what());
  }
  if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?[0-9]+"))) line.fail("bad timestamp");
  return sample;
}

// Which family a sample named `name` belongs to, given its TYPE.
bool belongs(const ParsedFamily& family, const std::string& name) {
  if (family.type == "histogram")
    return name == family.name + "_bucket" || name == family.name + "_sum" || name == family.name + "_count";
  if (family.type == "summary") return name == family.name || name == family.name + "_sum" || name == family.name + "_count";
  return name == family.name;
}

void check_histogram(const ParsedFamily& family) {
  // Per label set without le: buckets in increasing le, cumulative, +Inf = _count.
  std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
  std::map<std::map<std::string, std::string>, double> sums, counts;
  for (const auto& sample : family.samples) {
    auto labels = sample.labels;
    if (sample.name == family.name + "_bucket") {
      const auto le = labels.find("le");
      if (le == labels.end()) throw std::runtime_error(family.name + ": a bucket without le");
      const double bound = parse_value(le->second);
      labels.erase(le);
      buckets[labels].emplace_back(bound, sample.value);
    } else {
      if (labels.count("le")) throw std::runtime_error(family.name + ": le on " + sample.name);
      (sample.name == family.name + "_sum" ? sums : counts)[labels] = sample.value;
    }
  }
  for (const auto& [labels, list] : buckets) {
    for (std::size_t i = 1; i < list.size(); ++i) {
      if (!(list[i].first > list[i - 1].first)) throw std::runtime_error(family.name + ": le not increasing");
      if (list[i].second < list[i - 1].second) throw std::runtime_error(family.name + ": buckets not cumulative");
    }
    if (list.empty() || !std::isinf(list.back().first)) throw std::runtime_error(family.name + ": no +Inf bucket");
    if (!sums.count(labels) || !counts.count(labels)) throw std::runtime_error(family.name + ": _sum or _count missing");
    if (counts[labels] != list.back().second) throw std::runtime_error(family.name + ": +Inf bucket != _count");
  }
  if (sums.size() != buckets.size() || counts.size() != buckets.size())
    throw std::runtime_error(family.name + ": _sum/_count without buckets");
}

}  // namespace

std::map<std::string, ParsedFamily> parse_prometheus_text(const std::string& text) {
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("the text does not end with a newline");
  std::map<std::string, ParsedFamily> families;
  std::set<std::string> closed;  // families whose samples have ended
  std::set<std::pair<std::string, std::map<std::string, std::string>>> series;
  std::string current;
  std::istringstream in(text);
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    const Line line{number, raw};
    if (raw.empty()) line.fail("blank line");
    if (raw[0] == '#') {
      std::istringstream words(raw);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (hash != "#" || (keyword != "HELP" && keyword != "TYPE")) line.fail("a comment other than HELP or TYPE");
      if (!std::regex_match(name, kMetricName)) line.fail("invalid metric name");
      const std::string prefix = "# " + keyword + " " + name;
      if (raw.size() <= prefix.size() + 1 || raw.compare(0, prefix.size() + 1, prefix + " ") != 0)
        line.fail("malformed " + keyword);
      const std::string rest = raw.substr(prefix.size() + 1);
      if (name != current) {
        if (families.count(name)) line.fail("family " + name + " appears again after other families");
        if (!current.empty()) closed.insert(current);
        current = name;
      }
      ParsedFamily& family = families[name];
      family.name = name;
      if (!family.samples.empty()) line.fail(keyword + " after samples");
      if (keyword == "HELP") {
        if (!family.help.empty()) line.fail("HELP twice");
        for (std::size_t i = 0; i < rest.size(); ++i)
          if (rest[i] == '\\' && (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n')))
            line.fail("invalid escape in HELP");
          else if (rest[i] == '\\')
            ++i;
        family.help = rest;
      } else {
        if (!family.type.empty()) line.fail("TYPE twice");
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!types.count(rest)) line.fail("unknown type '" + rest + "'");
        if (rest == "counter" && !ends_with(name, "_total")) line.fail("counter not named *_total");
        family.type = rest;
      }
      continue;
    }
    ParsedSample sample = parse_sample(line);
    if (current.empty() || !belongs(families[current], sample.name)) line.fail("sample outside its family's block");
    ParsedFamily& family = families[current];
    if (family.help.empty() || family.type.empty()) line.fail("sample before its family's HELP and TYPE");
    if (family.type == "counter" && !(sample.value >= 0)) line.fail("negative or NaN counter");
    if (!series.emplace(sample.name, sample.labels).second) line.fail("series repeated");
    family.samples.push_back(std::move(sample));
  }
  for (const auto& [name, family] : families) {
    if (family.help.empty() || family.type.empty()) throw std::runtime_error(name + ": HELP or TYPE missing");
    if (family.type == "histogram") check_histogram(family);
  }
  return families;
}

double sample_value(const std::map<std::string, ParsedFamily>& families, const std::string& family,
                    const std::map<std::string, std::string>& labels, const std::string& name) {
  const auto it = families.find(family);
  if (it == families.end()) throw std::runtime_error("no family " + family);
  const std::string wanted = name.empty() ? family : name;
  const ParsedSample* found = nullptr;
  for (const auto& sample : it->second.samples) {
    if (sample.name != wanted) continue;
    if (sample.labels != labels) continue;
    if (found) throw std::runtime_error("several samples of " + wanted + " match");
    found = &sample;
  }
  if (!found) throw std::runtime_error("no sample of " + wanted + " matches");
  return found->value;
}

}  // namespace cw::testing
