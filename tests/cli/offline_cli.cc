#include "tests/cli/offline_cli.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cw::testing {

int OfflineCli::run(const std::string& args, const std::string& program) const {
  const std::string command = program + " --endpoint tcp://127.0.0.1:1 --ingest tcp://127.0.0.1:1" +
                              " --timeout-ms 200 --data-dir " + data_dir() + " " + args + " > " +
                              dir_.sub("cli.out") + " 2> " + dir_.sub("cli.err");
  return WEXITSTATUS(std::system(command.c_str()));
}

std::string OfflineCli::out() const { return file_text(dir_.sub("cli.out")); }
std::string OfflineCli::err() const { return file_text(dir_.sub("cli.err")); }

int OfflineCli::python(const std::string& code) const {
  const std::string script = dir_.sub("make.py");
  std::ofstream(script) << "import numpy as np\n" << code;
  return WEXITSTATUS(std::system((std::string(CW_PYTHON) + " " + script).c_str()));
}

bool OfflineCli::import_small_run() const {
  const std::string array = dir_.sub("small.npy"), probe = dir_.sub("small_probe.npy");
  if (python("np.save('" + array + "', (np.arange(32, dtype=np.float32) / 32).reshape(8, 4))\n" + "np.save('" +
             probe + "', np.arange(8).reshape(2, 4))\n") != 0)
    return false;
  return run("import --run r --tap resid --step 10 --probe-tokens " + probe + " " + array) == 0;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cw::testing
