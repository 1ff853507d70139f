// The http:// URLs the HTTP sinks (webhook, alertmanager) post to, split for
// cpp-httplib, which wants host, port and path apart. Checked when the sink
// is built, so a typo fails at start-up rather than at the first alert.
#ifndef CW_ALERTS_HTTP_URL_H_
#define CW_ALERTS_HTTP_URL_H_

#include <string>

namespace cw {

struct HttpUrl {
  std::string host;  // without the brackets of an IPv6 literal
  int port = 80;
  std::string path = "/";
};

// Parses http://host[:port][/path]. Throws std::invalid_argument starting
// with `who` (e.g. "webhook alert sink") on https, a missing host or a bad
// port.
HttpUrl parse_http_url(const std::string& url, const std::string& who);

}  // namespace cw

#endif  // CW_ALERTS_HTTP_URL_H_
