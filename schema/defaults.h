// Where the daemon listens and keeps its data unless told otherwise. Shared
// by the daemon, the CLI and the hooks so that zero configuration works.
#ifndef CW_SCHEMA_DEFAULTS_H_
#define CW_SCHEMA_DEFAULTS_H_

#include <cstdlib>
#include <string>

namespace cw {

inline constexpr const char* kDefaultIngestEndpoint = "tcp://127.0.0.1:7781";
inline constexpr const char* kDefaultQueryEndpoint = "tcp://127.0.0.1:7782";

// $CONCEPTWATCH_DATA_DIR, else $XDG_DATA_HOME/conceptwatch, else
// ~/.local/share/conceptwatch, else ./conceptwatch-data.
inline std::string default_data_dir() {
  if (const char* dir = std::getenv("CONCEPTWATCH_DATA_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/conceptwatch";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/conceptwatch";
  return "conceptwatch-data";
}

}  // namespace cw

#endif  // CW_SCHEMA_DEFAULTS_H_
