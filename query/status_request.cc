#include "query/status_request.h"

#include "query/query_handler.h"

namespace cw {

StatusRequest StatusRequest::from_params(const nlohmann::json& params) {
  StatusRequest request;
  if (!params.is_object()) return request;
  if (params.contains("run") && !params["run"].is_null()) request.run = required_param(params, "run");
  if (params.contains("taps") && !params["taps"].is_null()) {
    if (!params["taps"].is_boolean()) throw QueryError("parameter 'taps' must be true or false");
    request.taps = params["taps"].get<bool>();
  }
  // The full listing is the old answer: everything, unless a limit is given.
  const uint64_t fallback = request.taps ? 0 : kDefaultLimit;
  request.limit = std::size_t(integer_param<uint64_t>(params, "limit", fallback));
  return request;
}

}  // namespace cw
