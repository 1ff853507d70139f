#include "daemon/alerting/jsonl_sink.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace cw {

JsonlSink::JsonlSink(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  file_ = std::fopen(path_.c_str(), "a");
  if (!file_) throw std::runtime_error("alert log " + path_ + ": cannot open for appending: " + std::strerror(errno));
}

JsonlSink::~JsonlSink() {
  if (file_ && file_ != stdout) std::fclose(file_);
}

std::string JsonlSink::name() const { return "jsonl " + path_; }

void JsonlSink::deliver(const Alert& alert) {
  std::string line = alert_to_json(alert).dump() + "\n";
  // One fwrite per line: with "a" mode each line lands whole even if another
  // process appends to the same file.
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    int error = errno;
    std::clearerr(file_);
    throw std::runtime_error("alert log " + path_ + ": write failed: " + std::strerror(error));
  }
}

}  // namespace cw
