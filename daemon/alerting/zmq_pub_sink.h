// Publishes alerts on a ZeroMQ PUB socket as two frames: the alertname (the
// topic subscribers filter on) and the alert_to_json record. PUB never
// blocks: a subscriber that is absent or slow misses alerts, by design.
#ifndef CW_DAEMON_ALERTING_ZMQ_PUB_SINK_H_
#define CW_DAEMON_ALERTING_ZMQ_PUB_SINK_H_

#include <memory>
#include <string>

#include "daemon/alerting/alert_sink.h"

namespace cw {

class ZmqPubSink : public AlertSink {
 public:
  // Binds `endpoint` now (e.g. "tcp://127.0.0.1:7783"; "tcp://127.0.0.1:*"
  // picks a free port); throws std::runtime_error naming it on failure.
  explicit ZmqPubSink(const std::string& endpoint);
  ~ZmqPubSink() override;

  // The endpoint actually bound, with the port filled in.
  const std::string& bound_endpoint() const { return bound_endpoint_; }

  std::string name() const override;
  void deliver(const Alert& alert) override;

 private:
  struct Socket;  // keeps zmq.hpp out of this header
  std::unique_ptr<Socket> socket_;
  std::string bound_endpoint_;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ZMQ_PUB_SINK_H_
