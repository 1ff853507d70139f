// The query side of the _conceptwatch module: cw::DaemonClient bound for
// conceptwatch.connect (conceptwatch/client.py), so Python asks the daemon
// with the CLI's own client and gets the very JSON `conceptwatch --json`
// prints. The wire format (query/query_protocol.h) stays in C++.
#ifndef CW_HOOKS_PYTHON_QUERY_CLIENT_H_
#define CW_HOOKS_PYTHON_QUERY_CLIENT_H_

#include <pybind11/pybind11.h>

namespace cw {

// Adds QueryClient and the exceptions DaemonUnreachable (a ConnectionError),
// DaemonRefused (a PermissionError) and QueryError (a RuntimeError) to `m`.
void add_query_client(pybind11::module_& m);

}  // namespace cw

#endif  // CW_HOOKS_PYTHON_QUERY_CLIENT_H_
