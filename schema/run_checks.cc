#include "schema/run_checks.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <set>
#include <string_view>

namespace cw {
namespace {

constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxQuotedBytes = 64;

// The length of the valid UTF-8 sequence that starts at `text[at]`, or 0 if
// none does (stray continuation byte, overlong form, surrogate, > U+10FFFF,
// truncated sequence).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xbf) return 0;
  }
  return length;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::string hex_byte(unsigned char c) {
  char text[5];
  std::snprintf(text, sizeof text, "\\x%02x", c);
  return text;
}

// Appends about the first `max_bytes` of `name` to `out` (whole characters),
// bytes that are not valid UTF-8 and control characters as \xNN; returns how
// many bytes of `name` it showed.
std::size_t append_printable(const std::string& name, std::size_t max_bytes, std::string* out) {
  std::size_t at = 0;
  while (at < name.size() && at < max_bytes) {
    const std::size_t length = utf8_sequence_length(name, at);
    if (length == 0 || (length == 1 && is_control(name[at]))) {
      *out += hex_byte(name[at]);
      ++at;
    } else {
      out->append(name, at, length);
      at += length;
    }
  }
  return at;
}

// The rules shared by every name; `slash_allowed` for scalar names.
std::string check_text(const std::string& what, const std::string& name, bool slash_allowed) {
  if (name.empty()) return what + " is empty";
  if (name.size() > kMaxNameBytes) {
    return what + " " + quoted_name(name) + " is longer than " + std::to_string(kMaxNameBytes) + " bytes";
  }
  for (std::size_t at = 0; at < name.size();) {
    const std::size_t length = utf8_sequence_length(name, at);
    if (length == 0) {
      return what + " " + quoted_name(name) + " is not valid UTF-8 (byte 0x" + hex_byte(name[at]).substr(2) +
             " at offset " + std::to_string(at) + ")";
    }
    at += length;
  }
  for (unsigned char c : name) {
    if (is_control(c) || (c == '/' && !slash_allowed)) {
      return what + " " + quoted_name(name) + " contains a control character" + (slash_allowed ? "" : " or '/'");
    }
  }
  return {};
}

}  // namespace

std::string check_name(const std::string& what, const std::string& name) { return check_text(what, name, false); }

std::string check_scalar_name(const std::string& what, const std::string& name) {
  return check_text(what, name, true);
}

std::string printable_name(const std::string& name, std::size_t max_bytes) {
  std::string out;
  if (append_printable(name, max_bytes, &out) < name.size()) out += "... (" + std::to_string(name.size()) + " bytes)";
  return out;
}

std::string quoted_name(const std::string& name) {
  std::string out = "'";
  const std::size_t shown = append_printable(name, kMaxQuotedBytes, &out);
  out += "'";
  if (shown < name.size()) out += " (" + std::to_string(name.size()) + " bytes)";
  return out;
}

std::string check_run(const RunDescription& run) {
  if (auto error = check_name("run id", run.run); !error.empty()) return error;
  if (run.taps.empty()) return "no taps";
  // Taps and tasks are looked up by name (RunDescription::find_tap): a
  // second entry of the same name would be ignored without a word.
  std::set<std::string> seen;
  for (const auto& tap : run.taps) {
    if (auto error = check_name("tap name", tap.name); !error.empty()) return error;
    if (tap.d_model == 0) return "tap '" + tap.name + "' has d_model 0";
    if (!seen.insert(tap.name).second) return "tap '" + tap.name + "' is listed twice";
  }
  const auto& probe = run.probe;
  if (probe.token_ids.empty() || probe.sequence_length == 0 || probe.token_ids.size() % probe.sequence_length != 0) {
    return "the probe set must be a non-empty whole number of sequences of sequence_length tokens";
  }
  seen.clear();
  for (const auto& task : run.tasks) {
    if (auto error = check_name("task name", task.name); !error.empty()) return error;
    if (task.token_ids.empty()) return "task '" + task.name + "' has no tokens";
    if (!seen.insert(task.name).second) return "task '" + task.name + "' is listed twice";
  }
  return {};
}

std::optional<SnapshotProblem> check_snapshot_meta(const RunDescription& run, uint64_t n_probe_tokens,
                                                   const SnapshotMeta& meta) {
  const SnapshotKey& key = meta.key;
  if (std::find(std::begin(kArrayKinds), std::end(kArrayKinds), key.kind) == std::end(kArrayKinds)) {
    std::string known;
    for (ArrayKind kind : kArrayKinds) {
      known += std::string(known.empty() ? "" : ", ") + array_kind_name(kind) + " (" + std::to_string(int(kind)) + ")";
    }
    return SnapshotProblem{wire::ErrorCode::BAD_REQUEST,
                           "array kind " + std::to_string(int(key.kind)) + " is unknown; known kinds: " + known};
  }
  // The task is part of the store key: a probe array with a task name would
  // be stored a second time at its step, and the crosscoder would see the
  // step twice.
  if (key.kind == ArrayKind::kProbeActivations && !key.task.empty()) {
    return SnapshotProblem{wire::ErrorCode::BAD_REQUEST, "a probe array names no task (this one names " +
                                                             quoted_name(key.task) + "); only task arrays do"};
  }
  const TapSpec* tap = run.find_tap(key.tap);
  if (!tap) {
    return SnapshotProblem{wire::ErrorCode::UNKNOWN_TAP,
                           "tap " + quoted_name(key.tap) + " is not registered for run '" + run.run + "'"};
  }
  for (const auto& scalar : meta.scalars) {
    if (auto error = check_scalar_name("scalar name", scalar.first); !error.empty()) {
      return SnapshotProblem{wire::ErrorCode::BAD_REQUEST, error};
    }
  }
  uint64_t expected_tokens = n_probe_tokens;
  if (key.kind != ArrayKind::kProbeActivations) {
    const TaskSpec* task = run.find_task(key.task);
    if (!task) return SnapshotProblem{wire::ErrorCode::BAD_SHAPE, "task " + quoted_name(key.task) + " is not registered"};
    expected_tokens = task->token_ids.size();
  }
  if (meta.d_model != tap->d_model || meta.n_tokens != expected_tokens) {
    return SnapshotProblem{wire::ErrorCode::BAD_SHAPE, "shape [" + std::to_string(meta.n_tokens) + " x " +
                                                           std::to_string(meta.d_model) + "] does not match [" +
                                                           std::to_string(expected_tokens) + " x " +
                                                           std::to_string(tap->d_model) + "]"};
  }
  return std::nullopt;
}

}  // namespace cw
