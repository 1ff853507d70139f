// The command line that runs one of tests/hooks' Python scripts with
// Debian's /usr/bin/python3 and the module as built (build/python), as the
// Python hook tests do.
#ifndef CW_TESTS_HOOKS_PYTHON_SCRIPT_H_
#define CW_TESTS_HOOKS_PYTHON_SCRIPT_H_

#include <string>

#if !defined(CW_PYTHON) || !defined(CW_SOURCE_DIR) || !defined(CW_PYTHON_MODULE_DIR)
#error "CW_PYTHON, CW_SOURCE_DIR and CW_PYTHON_MODULE_DIR must be defined"
#endif

namespace cw::testing {

// "PYTHONPATH=... /usr/bin/python3 SOURCE/tests/hooks/SCRIPT "; append the
// script's arguments.
inline std::string python_script(const std::string& script) {
  return std::string("PYTHONPATH=") + CW_PYTHON_MODULE_DIR + " " + CW_PYTHON + " " + CW_SOURCE_DIR + "/tests/hooks/" +
         script + " ";
}

}  // namespace cw::testing

#endif  // CW_TESTS_HOOKS_PYTHON_SCRIPT_H_
