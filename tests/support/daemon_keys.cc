#include "tests/support/daemon_keys.h"

#include <filesystem>

#include "auth/curve_keys.h"

namespace cw::testing {

DaemonKeys::DaemonKeys(std::string dir) : dir_(std::move(dir)) {
  namespace fs = std::filesystem;
  fs::create_directories(dir_ + "/ingest.d");
  fs::create_directories(dir_ + "/query.d");
  for (const char* name : {"server", "writer", "reader", "admin", "stranger"}) write_key_pair(generate_key_pair(), dir_ + "/" + name);
  fs::copy_file(dir_ + "/writer.pub", dir_ + "/ingest.d/writer.pub");
  fs::copy_file(dir_ + "/reader.pub", dir_ + "/query.d/reader.pub");
  fs::copy_file(dir_ + "/admin.pub", dir_ + "/ingest.d/admin.pub");
  fs::copy_file(dir_ + "/admin.pub", dir_ + "/query.d/admin.pub");
}

std::vector<std::string> DaemonKeys::daemon_args() const {
  return {"--secret-key", dir_ + "/server.secret", "--ingest-keys", dir_ + "/ingest.d", "--query-keys", dir_ + "/query.d"};
}

ClientKeyFiles DaemonKeys::as(const std::string& name) const {
  return {dir_ + "/server.pub", dir_ + "/" + name + ".secret"};
}

std::string DaemonKeys::cli_args(const std::string& name) const {
  const ClientKeyFiles keys = as(name);
  return "--server-key " + keys.server_key + " --secret-key " + keys.secret_key;
}

}  // namespace cw::testing
