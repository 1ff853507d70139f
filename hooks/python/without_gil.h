// Running C++ that may block (a query, a flush) without holding Python's GIL.
#ifndef CW_HOOKS_PYTHON_WITHOUT_GIL_H_
#define CW_HOOKS_PYTHON_WITHOUT_GIL_H_

#include <pybind11/pybind11.h>

namespace cw {

// Runs `work` without the GIL, as py::gil_scoped_release would, but takes
// the GIL back in plain code rather than in a destructor: a daemon thread
// that takes it back after the interpreter has finalised is ended by
// pthread_exit, and that unwinding through a destructor (implicitly
// noexcept) aborted the whole process at exit ("terminate called without
// an active exception"). Out of plain code it unwinds to pybind11's
// dispatcher, which lets it pass. tests/hooks/python_exit_check.py.
template <typename Work>
auto without_gil(Work work) {
  PyThreadState* state = PyEval_SaveThread();
  auto result = [&] {
    try {
      return work();
    } catch (...) {
      PyEval_RestoreThread(state);
      throw;
    }
  }();
  PyEval_RestoreThread(state);  // outside the try: its pthread_exit must not be caught
  return result;
}

}  // namespace cw

#endif  // CW_HOOKS_PYTHON_WITHOUT_GIL_H_
