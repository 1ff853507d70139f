#include "ingest/hello_merge.h"

#include <unordered_map>

#include "schema/run_checks.h"

namespace cw {
namespace {

// "stored N tokens, this hello M" or the first index at which two id or
// text lists differ: never the lists themselves, which may be megabytes.
template <typename T>
std::string first_difference(const std::vector<T>& stored, const std::vector<T>& hello, const char* unit) {
  if (stored.size() != hello.size()) {
    return "stored " + std::to_string(stored.size()) + " " + unit + ", this hello " + std::to_string(hello.size());
  }
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] != hello[i]) return "first difference at index " + std::to_string(i);
  }
  return {};
}

std::string task_difference(const TaskSpec& stored, const TaskSpec& hello) {
  const std::string what = "task " + quoted_name(stored.name);
  if (stored.sequence_length != hello.sequence_length) {
    return what + " was declared with sequence_length " + std::to_string(stored.sequence_length) + ", this hello " +
           std::to_string(hello.sequence_length);
  }
  if (auto diff = first_difference(stored.token_ids, hello.token_ids, "tokens"); !diff.empty()) {
    return what + " was declared with other token_ids (" + diff + ")";
  }
  if (stored.metric != hello.metric) {
    return what + " was declared with metric " + quoted_name(stored.metric) + ", this hello " +
           quoted_name(hello.metric);
  }
  return {};
}

}  // namespace

HelloMerge merge_hello(const RunDescription& stored, const std::vector<std::string>* stored_vocabulary,
                       const RunDescription& hello) {
  HelloMerge out;
  auto refuse = [&](std::string why) {
    out.conflict = std::move(why) + ": a Hello may add taps and tasks but not change them; use a new run id";
    return out;
  };
  if (stored.dtype != hello.dtype) {
    return refuse(std::string("the run was declared with dtype ") + dtype_name(stored.dtype) + ", this hello " +
                  dtype_name(hello.dtype));
  }
  if (!hello.probe.vocabulary.empty() && stored_vocabulary && !stored_vocabulary->empty()) {
    if (auto diff = first_difference(*stored_vocabulary, hello.probe.vocabulary, "tokens"); !diff.empty()) {
      return refuse("the probe vocabulary differs from the stored one (" + diff + ")");
    }
  }
  out.merged = stored;
  out.merged.probe = hello.probe;
  out.vocabulary_added = !hello.probe.vocabulary.empty() && stored_vocabulary && stored_vocabulary->empty();

  std::unordered_map<std::string, const TapSpec*> taps;
  for (const auto& tap : stored.taps) taps.emplace(tap.name, &tap);
  for (const auto& tap : hello.taps) {
    auto it = taps.find(tap.name);
    if (it == taps.end()) {
      out.merged.taps.push_back(tap);
      out.run_changed = true;
    } else if (it->second->d_model != tap.d_model) {
      return refuse("tap " + quoted_name(tap.name) + " was declared with d_model " +
                    std::to_string(it->second->d_model) + ", this hello " + std::to_string(tap.d_model));
    }
  }
  std::unordered_map<std::string, const TaskSpec*> tasks;
  for (const auto& task : stored.tasks) tasks.emplace(task.name, &task);
  for (const auto& task : hello.tasks) {
    auto it = tasks.find(task.name);
    if (it == tasks.end()) {
      out.merged.tasks.push_back(task);
      out.run_changed = true;
    } else if (auto diff = task_difference(*it->second, task); !diff.empty()) {
      return refuse(diff);
    }
  }
  return out;
}

}  // namespace cw
