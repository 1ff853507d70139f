// Aligned plain-text tables, like `kubectl get` or `docker ps` print.
#ifndef CW_CLI_TEXT_TABLE_H_
#define CW_CLI_TEXT_TABLE_H_

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace cw {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// 1536 -> "1.5 KiB".
std::string human_bytes(double bytes);

// A number with `digits` decimals; "-" for anything that is not a number
// (null: not measured).
std::string fixed(const nlohmann::json& value, int digits = 3);

}  // namespace cw

#endif  // CW_CLI_TEXT_TABLE_H_
