// Publishes each notification on a ZeroMQ PUB socket as two frames: the
// alertname (so subscribers can filter by topic) and the alert's JSON.
// PUB never blocks and drops for absent or slow subscribers: it is a live
// feed (`conceptwatch events --follow`), not a durable log.
#ifndef CW_ALERTS_ZMQ_PUB_SINK_H_
#define CW_ALERTS_ZMQ_PUB_SINK_H_

#include <memory>
#include <string>

#include "alerts/alert_sink.h"

namespace cw {

class ZmqPubSink : public AlertSink {
 public:
  // Binds `endpoint` (e.g. "tcp://127.0.0.1:7783") at once; throws
  // std::runtime_error naming it if it cannot.
  explicit ZmqPubSink(std::string endpoint);
  ~ZmqPubSink() override;

  void deliver(const Alert& alert) override;
  std::string describe() const override;
  // The bound address, with the port resolved when the endpoint used "*".
  // ZeroMQ sockets are single-threaded: call it before handing the sink to
  // an AlertDispatcher.
  std::string last_endpoint() const;

 private:
  struct Socket;
  std::string endpoint_;
  std::unique_ptr<Socket> socket_;
};

}  // namespace cw

#endif  // CW_ALERTS_ZMQ_PUB_SINK_H_
