// Answers the CLI's queries from the store. The daemon answers through its
// query socket; the CLI uses the same code on a read-only store when the
// daemon is down, so both give the same JSON.
#ifndef CW_QUERY_QUERY_HANDLER_H_
#define CW_QUERY_QUERY_HANDLER_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "query/status_request.h"
#include "store/store.h"

namespace cw {

// A query the handler cannot answer (unknown command, bad parameters).
class QueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class QueryHandler {
 public:
  using Command = std::function<nlohmann::json(const nlohmann::json& params)>;

  // `live` adds the daemon's own state (uptime, queues) to `status`, as much
  // as the request asks for (query/status_request.h); the CLI answering
  // from a read-only store passes nothing.
  using Live = std::function<nlohmann::json(const StatusRequest&)>;
  explicit QueryHandler(Store& store, Live live = nullptr);

  // Later stages (crosscoder, detectors) add their commands here, all of
  // them before the first answer().
  void add(const std::string& name, Command command);
  // Safe to call from several threads at once (the daemon's serving loop
  // and its HTTP port's threads): the commands only read the store, which
  // RocksDB makes thread-safe, through objects of their own.
  nlohmann::json answer(const std::string& command, const nlohmann::json& params) const;

 private:
  nlohmann::json status(const nlohmann::json& params) const;
  nlohmann::json runs(const nlohmann::json& params) const;
  nlohmann::json snapshots(const nlohmann::json& params) const;
  nlohmann::json run_description(const nlohmann::json& params) const;

  Store& store_;
  Live live_;
  std::map<std::string, Command> commands_;
};

// Reads a required string parameter; throws QueryError naming it.
std::string required_param(const nlohmann::json& params, const char* name);

// Reads an optional integer parameter (int64_t or uint64_t): `fallback` when
// absent or null; throws QueryError naming it when it is not an integer T
// holds. nlohmann's get<T>() converts a JSON number such as 1e300 with a
// cast that is undefined behaviour (fuzz/query_fuzzer.cc under UBSan).
template <typename T>
T integer_param(const nlohmann::json& params, const char* name, T fallback);

}  // namespace cw

#endif  // CW_QUERY_QUERY_HANDLER_H_
