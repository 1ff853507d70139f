#include "examples/tinygpt/kjv_corpus.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace cw {

std::string load_kjv_text(const std::string& bible_program) {
  const std::string command = bible_program + " -f Gen1:1-Rev22:21 </dev/null 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("kjv: cannot run '" + command + "'");
  std::string raw;
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0) raw.append(buffer, n);
  const int status = pclose(pipe.release());
  if (status != 0 || raw.size() < 1000000) {
    throw std::runtime_error("kjv: '" + command + "' failed (exit status " + std::to_string(status) + ", " +
                             std::to_string(raw.size()) +
                             " bytes); install Debian's bible-kjv and bible-kjv-text, or pass a text file");
  }
  return strip_verse_references(raw);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open text file '" + path + "'");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string strip_verse_references(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // A reference is the first word when it contains a ':' (e.g. "1Co13:4").
    const size_t space = line.find(' ');
    if (space != std::string::npos && line.find(':') < space) line.erase(0, space + 1);
    out += line;
    out += '\n';
  }
  return out;
}

CharVocabulary::CharVocabulary(const std::string& text) {
  bool seen[256] = {};
  for (unsigned char c : text) seen[c] = true;
  std::fill(std::begin(id_of_), std::end(id_of_), int64_t(-1));
  for (int c = 0; c < 256; ++c) {
    if (!seen[c]) continue;
    id_of_[c] = int64_t(chars_.size());
    chars_ += char(c);
  }
  if (chars_.size() < 2) throw std::invalid_argument("CharVocabulary: text has fewer than 2 distinct characters");
}

std::vector<int64_t> CharVocabulary::encode(const std::string& text) const {
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const int64_t id = id_of_[static_cast<unsigned char>(text[i])];
    if (id < 0) throw std::invalid_argument("CharVocabulary: character " + std::to_string(int(text[i])) + " not in vocabulary");
    ids[i] = id;
  }
  return ids;
}

std::vector<std::string> CharVocabulary::token_strings() const {
  std::vector<std::string> out;
  for (char c : chars_) out.emplace_back(1, c);
  return out;
}

TextSplit split_for_probe(const std::vector<int64_t>& ids, double probe_fraction) {
  if (!(probe_fraction > 0 && probe_fraction < 1)) {
    throw std::invalid_argument("probe fraction must be in (0, 1), got " + std::to_string(probe_fraction));
  }
  const size_t cut = ids.size() - size_t(double(ids.size()) * probe_fraction);
  return {std::vector<int64_t>(ids.begin(), ids.begin() + cut), std::vector<int64_t>(ids.begin() + cut, ids.end())};
}

std::vector<int64_t> sample_windows(const std::vector<int64_t>& ids, int64_t batch, int64_t length,
                                    std::mt19937_64& rng) {
  if (int64_t(ids.size()) < length) throw std::invalid_argument("sample_windows: text shorter than one window");
  std::uniform_int_distribution<size_t> start(0, ids.size() - size_t(length));
  std::vector<int64_t> out;
  out.reserve(size_t(batch * length));
  for (int64_t b = 0; b < batch; ++b) {
    const size_t s = start(rng);
    out.insert(out.end(), ids.begin() + s, ids.begin() + s + length);
  }
  return out;
}

std::vector<int64_t> leading_windows(const std::vector<int64_t>& ids, int64_t count, int64_t length) {
  if (int64_t(ids.size()) < count * length) {
    throw std::invalid_argument("leading_windows: probe text has " + std::to_string(ids.size()) + " ids, " +
                                std::to_string(count) + " windows of " + std::to_string(length) + " need more");
  }
  return std::vector<int64_t>(ids.begin(), ids.begin() + count * length);
}

}  // namespace cw
