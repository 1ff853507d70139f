// The query socket's protocol on top of schema/messages.h: a Query frame in,
// a Reply frame out, with JSON parameters and answers.
#ifndef CW_QUERY_QUERY_PROTOCOL_H_
#define CW_QUERY_QUERY_PROTOCOL_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "query/query_handler.h"
#include "schema/message_io.h"

namespace cw {

Frame encode_query_frame(const std::string& command, const nlohmann::json& params);
// Answers a Query frame; any failure becomes a Reply with ok = false.
Frame answer_query_frame(const QueryHandler& handler, const void* data, std::size_t size);
// Decodes a Reply frame; throws QueryError with the daemon's message.
nlohmann::json decode_reply_frame(const void* data, std::size_t size);

}  // namespace cw

#endif  // CW_QUERY_QUERY_PROTOCOL_H_
