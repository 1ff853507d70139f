// The daemon's log line formats (--log-format, [daemon] log_format).
#ifndef CW_DAEMON_LOG_FORMAT_H_
#define CW_DAEMON_LOG_FORMAT_H_

#include <string>

namespace cw {

// Sets spdlog's format for every logger: "text" (one human-readable line)
// or "json" (one JSON object per line: time, level, pid, msg). In JSON the
// message is escaped as a JSON string: messages quote run, tap and task
// names that any peer chooses, and a name with a quote must not end the
// string and add fields of its own (issue 11: the systemd unit logs JSON).
void set_log_format(const std::string& format);

}  // namespace cw

#endif  // CW_DAEMON_LOG_FORMAT_H_
