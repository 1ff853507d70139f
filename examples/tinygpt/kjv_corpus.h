// The King James Bible as plain text, character-level. Debian's bible-kjv
// stores it compressed in /usr/lib/bible.data; its `bible` program prints
// it. We drop the verse references ("Ge1:1 ") so the text is prose only:
// 63 distinct characters, char bigram entropy ≈ 2.26 nats.
#ifndef CW_EXAMPLES_TINYGPT_KJV_CORPUS_H_
#define CW_EXAMPLES_TINYGPT_KJV_CORPUS_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cw {

// Runs `<bible_program> -f Gen1:1-Rev22:21` and strips the references.
// Throws std::runtime_error (saying which package to install) on failure.
std::string load_kjv_text(const std::string& bible_program = "/usr/bin/bible");

// Reads a plain text file whole (for corpora other than the packaged KJV).
std::string read_text_file(const std::string& path);

// "Ge1:1 In the beginning" -> "In the beginning", line by line.
std::string strip_verse_references(const std::string& text);

// Characters that occur in a text, sorted by byte value; id = rank.
class CharVocabulary {
 public:
  explicit CharVocabulary(const std::string& text);
  int64_t size() const { return int64_t(chars_.size()); }
  std::vector<int64_t> encode(const std::string& text) const;  // throws on unknown chars
  std::vector<std::string> token_strings() const;              // one string per id
 private:
  std::string chars_;
  int64_t id_of_[256];
};

// Disjoint train / probe parts: the probe is the last `probe_fraction` of
// the text, so no probe window ever appears in training.
struct TextSplit {
  std::vector<int64_t> train, probe;
};
TextSplit split_for_probe(const std::vector<int64_t>& ids, double probe_fraction);

// `batch` windows of `length` ids starting at uniformly random offsets.
std::vector<int64_t> sample_windows(const std::vector<int64_t>& ids, int64_t batch, int64_t length,
                                    std::mt19937_64& rng);

// The first `count` non-overlapping windows of `length` ids (the fixed probe set).
std::vector<int64_t> leading_windows(const std::vector<int64_t>& ids, int64_t count, int64_t length);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_KJV_CORPUS_H_
