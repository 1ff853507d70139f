#include "daemon/query_protocol.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include "schema/message_io.h"

namespace cw {
namespace {

constexpr std::size_t kMaxQueryBytes = 1 << 20;
constexpr std::size_t kMaxReplyBytes = 1ull << 30;

Frame reply_frame(bool ok, const std::string& json, const std::string& error) {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  auto reply = message.getBody().initReply();
  reply.setOk(ok);
  reply.setJson(json);
  reply.setError(error);
  auto words = encode_message(builder);
  auto bytes = words.asBytes();
  return Frame(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace

Frame encode_query_frame(const std::string& command, const nlohmann::json& params) {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  auto query = message.getBody().initQuery();
  query.setCommand(command);
  query.setParams(params.dump());
  auto words = encode_message(builder);
  auto bytes = words.asBytes();
  return Frame(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Frame answer_query_frame(const QueryHandler& handler, const void* data, std::size_t size) {
  try {
    IncomingMessage in(data, size, kMaxQueryBytes);
    auto body = in.get().getBody();
    if (!body.isQuery()) return reply_frame(false, "", "expected a Query message");
    const auto query = body.getQuery();
    const std::string params_text = to_string(query.getParams());
    const nlohmann::json params = params_text.empty() ? nlohmann::json::object() : nlohmann::json::parse(params_text);
    return reply_frame(true, handler.answer(to_string(query.getCommand()), params).dump(), "");
  } catch (const std::exception& e) {
    return reply_frame(false, "", e.what());
  } catch (const kj::Exception& e) {
    return reply_frame(false, "", std::string("malformed query: ") + e.getDescription().cStr());
  }
}

nlohmann::json decode_reply_frame(const void* data, std::size_t size) {
  IncomingMessage in(data, size, kMaxReplyBytes);
  auto body = in.get().getBody();
  if (!body.isReply()) throw QueryError("the daemon sent something other than a Reply");
  auto reply = body.getReply();
  if (!reply.getOk()) throw QueryError(to_string(reply.getError()));
  return nlohmann::json::parse(to_string(reply.getJson()));
}

}  // namespace cw
