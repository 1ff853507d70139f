#include "alerts/json_lines_sink.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "schema/json_text.h"

namespace cw {

JsonLinesSink::JsonLinesSink(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw std::invalid_argument("jsonl alert sink: path is empty (use \"-\" for stdout)");
  file_ = path_ == "-" ? stdout : std::fopen(path_.c_str(), "a");
  if (file_ == nullptr)
    throw std::runtime_error("jsonl alert sink: cannot open " + path_ + " for appending: " + std::strerror(errno));
}

JsonLinesSink::~JsonLinesSink() {
  if (file_ != stdout) std::fclose(file_);
}

void JsonLinesSink::deliver(const Alert& alert) {
  std::string line = json_text(alert_to_json(alert)) + "\n";
  // One fwrite per line: stdio locks the stream per call, so a line is not
  // interleaved with other writers of the same FILE (e.g. stdout logging).
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    int error = errno;
    std::clearerr(file_);
    throw std::runtime_error("jsonl alert sink: writing " + path_ + ": " + std::strerror(error));
  }
}

std::string JsonLinesSink::describe() const { return path_ == "-" ? "jsonl stdout" : "jsonl " + path_; }

}  // namespace cw
