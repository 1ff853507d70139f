#include "query/query_protocol.h"

#include <kj/exception.h>

#include "schema/json_text.h"
#include "schema/messages.h"

namespace cw {
namespace {

constexpr std::size_t kMaxQueryBytes = 1 << 20;
constexpr std::size_t kMaxReplyBytes = 1ull << 30;

Frame failure(const std::string& error) { return encode_reply_frame({false, "", error}); }

}  // namespace

Frame encode_query_frame(const std::string& command, const nlohmann::json& params) {
  return encode_query_frame(QueryRequest{command, json_text(params)});
}

Frame answer_query_frame(const QueryHandler& handler, const void* data, std::size_t size) {
  try {
    IncomingMessage in(data, size, kMaxQueryBytes);
    auto body = in.get().getBody();
    if (!body.isQuery()) return failure("expected a Query message");
    const QueryRequest query = read_query(body.getQuery());
    const nlohmann::json params = query.params.empty() ? nlohmann::json::object() : nlohmann::json::parse(query.params);
    return encode_reply_frame({true, json_text(handler.answer(query.command, params)), ""});
  } catch (const std::exception& e) {
    return failure(e.what());
  } catch (const kj::Exception& e) {
    return failure(std::string("malformed query: ") + e.getDescription().cStr());
  }
}

nlohmann::json decode_reply_frame(const void* data, std::size_t size) {
  IncomingMessage in(data, size, kMaxReplyBytes);
  auto body = in.get().getBody();
  if (!body.isReply()) throw QueryError("the daemon sent something other than a Reply");
  const QueryReply reply = read_reply(body.getReply());
  if (!reply.ok) throw QueryError(reply.error);
  return nlohmann::json::parse(reply.json);
}

}  // namespace cw
