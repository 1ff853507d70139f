// Hands alerts to an operator's Prometheus Alertmanager the way Prometheus
// does: POST <url>/api/v2/alerts with a JSON array of {labels, annotations,
// startsAt, endsAt, generatorURL}, so Alertmanager's silences, grouping,
// inhibition and routing apply. (WebhookSink is the other direction: it
// speaks the payload Alertmanager sends *to* receivers.)
//
// Alertmanager forgets an alert that is not re-posted: a firing alert is
// posted with endsAt = now + 4 × repost_interval (Prometheus' rule: four
// missed re-posts and it resolves) and re-posted every repost_interval by
// the sink's own thread while it fires, so alerts of a daemon that died
// resolve by themselves. A resolved alert is posted once with its endsAt
// (the time it resolved) and re-posted no more.
#ifndef CW_ALERTS_ALERTMANAGER_SINK_H_
#define CW_ALERTS_ALERTMANAGER_SINK_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "alerts/alert_sink.h"

namespace cw {

struct AlertmanagerOptions {
  // Alertmanager's base URL (its --web.external-url / route prefix):
  // http://host[:port][/prefix]; "/api/v2/alerts" is appended.
  std::string url;
  // Below Alertmanager's resolve_timeout (default 5 min) and well below
  // 4 × the time an operator accepts for a dead daemon's alerts to clear.
  std::chrono::milliseconds repost_interval{60000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};
  std::string generator_url;  // generatorURL of alerts that carry none (AlertsConfig::external_url)
};

// One element of the POST body: the alert's labels (empty values left out,
// as Prometheus does), annotations, startsAt, endsAt = `ends_at`, and
// generatorURL when there is one.
nlohmann::json alertmanager_postable(const Alert& alert, AlertTime ends_at, const std::string& generator_url);

class AlertmanagerSink : public AlertSink {
 public:
  // Throws std::invalid_argument on a URL it cannot use or an interval < 1 ms.
  explicit AlertmanagerSink(AlertmanagerOptions options);
  ~AlertmanagerSink() override;  // stops the re-post thread

  // Posts the alert; a firing one is then re-posted until it resolves.
  void deliver(const Alert& alert) override;
  void interrupt() override;  // closes an open connection
  std::string describe() const override;

 private:
  struct Client;
  void post(const nlohmann::json& body);  // throws on failure; mu_ held
  void repost_loop();

  AlertmanagerOptions options_;
  std::string path_;
  std::unique_ptr<Client> client_;
  // Guards firing_ and serialises posts, so a re-post taken before a
  // resolution can never land after it and fire the alert again.
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Alert> firing_;  // by fingerprint
  bool stop_ = false;
  std::thread reposter_;
};

}  // namespace cw

#endif  // CW_ALERTS_ALERTMANAGER_SINK_H_
