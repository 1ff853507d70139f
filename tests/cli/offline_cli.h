// Test helper: the conceptwatch CLI run as a process against a daemon that
// is not there (unused ports, 200 ms timeout), on a data directory of its
// own, with numpy (through /usr/bin/python3) to write the .npy files that
// `conceptwatch import` stores.
#ifndef CW_TESTS_CLI_OFFLINE_CLI_H_
#define CW_TESTS_CLI_OFFLINE_CLI_H_

#include <string>

#include "tests/support/temp_dir.h"

namespace cw::testing {

class OfflineCli {
 public:
  explicit OfflineCli(const TempDir& dir) : dir_(dir) {}

  std::string data_dir() const { return dir_.sub("data"); }
  // Runs `program` (default: the CLI under test) with the endpoints, the
  // data directory and `args`; returns its exit status. out() and err()
  // hold what it printed.
  int run(const std::string& args, const std::string& program = CW_CLI_PATH) const;
  std::string out() const;
  std::string err() const;
  std::string output() const { return out() + err(); }
  // Runs Python `code` with numpy imported as np; returns its exit status.
  int python(const std::string& code) const;
  // Run "r", tap "resid": one snapshot at step 10 of 8 tokens × d_model 4
  // (np.arange(32) / 32) with its probe tokens; false (with what the CLI
  // said on stderr) if the import failed.
  bool import_small_run() const;

 private:
  const TempDir& dir_;
};

// A file's bytes ("" when it cannot be read).
std::string file_text(const std::string& path);

}  // namespace cw::testing

#endif  // CW_TESTS_CLI_OFFLINE_CLI_H_
