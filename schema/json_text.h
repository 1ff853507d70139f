// JSON text for what the daemon sends and stores. Names and token texts come
// from the wire; one that is not valid UTF-8 (a byte-level token cut in the
// middle of a character, or a name stored before names were checked) would
// make nlohmann's strict dump() throw and take every reply or event that
// carries it down. Here such bytes become U+FFFD instead.
#ifndef CW_SCHEMA_JSON_TEXT_H_
#define CW_SCHEMA_JSON_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace cw {

inline std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cw

#endif  // CW_SCHEMA_JSON_TEXT_H_
