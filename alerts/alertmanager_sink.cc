#include "alerts/alertmanager_sink.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "alerts/http_url.h"
#include "schema/json_text.h"

namespace cw {

nlohmann::json alertmanager_postable(const Alert& alert, AlertTime ends_at, const std::string& generator_url) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [name, value] : alert.labels)
    if (!value.empty()) labels[name] = value;  // Alertmanager reads an empty value as no label
  nlohmann::json postable = {{"labels", labels},
                             {"annotations", alert.annotations},
                             {"startsAt", format_rfc3339(alert.starts_at)},
                             {"endsAt", format_rfc3339(ends_at)}};
  const std::string& url = alert.generator_url.empty() ? generator_url : alert.generator_url;
  if (!url.empty()) postable["generatorURL"] = url;  // its API wants a URI or nothing
  return postable;
}

struct AlertmanagerSink::Client {
  explicit Client(const HttpUrl& url) : http(url.host, url.port) {}
  httplib::Client http;
};

AlertmanagerSink::AlertmanagerSink(AlertmanagerOptions options) : options_(std::move(options)) {
  const HttpUrl url = parse_http_url(options_.url, "alertmanager alert sink");
  if (options_.repost_interval.count() < 1)
    throw std::invalid_argument("alertmanager alert sink: repost_interval must be at least 1 ms");
  path_ = url.path;
  while (!path_.empty() && path_.back() == '/') path_.pop_back();
  path_ += "/api/v2/alerts";
  client_ = std::make_unique<Client>(url);
  client_->http.set_connection_timeout(options_.connect_timeout);
  client_->http.set_read_timeout(options_.read_timeout);
  client_->http.set_write_timeout(options_.read_timeout);
  client_->http.set_keep_alive(false);
  reposter_ = std::thread([this] { repost_loop(); });
}

AlertmanagerSink::~AlertmanagerSink() {
  client_->http.stop();  // a re-post under way (holding mu_) returns now
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    wake_.notify_all();
  }
  reposter_.join();
}

void AlertmanagerSink::post(const nlohmann::json& body) {
  httplib::Result result = client_->http.Post(path_.c_str(), json_text(body), "application/json");
  const std::string what = "POST " + path_ + " to Alertmanager " + options_.url;
  if (!result) throw std::runtime_error(what + ": " + httplib::to_string(result.error()));
  if (result->status < 200 || result->status >= 300)
    throw std::runtime_error(what + ": HTTP " + std::to_string(result->status) + " " + result->body.substr(0, 200));
}

void AlertmanagerSink::deliver(const Alert& alert) {
  std::lock_guard<std::mutex> lock(mu_);
  AlertTime ends_at;
  if (alert.status == AlertStatus::kFiring) {
    firing_[alert.fingerprint()] = alert;  // kept even if this post fails: the re-post retries it too
    ends_at = std::chrono::system_clock::now() + 4 * options_.repost_interval;
  } else {
    firing_.erase(alert.fingerprint());
    ends_at = alert.ends_at.value_or(std::chrono::system_clock::now());
  }
  post(nlohmann::json::array({alertmanager_postable(alert, ends_at, options_.generator_url)}));
}

void AlertmanagerSink::repost_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  bool failing = false;
  while (!wake_.wait_for(lock, options_.repost_interval, [this] { return stop_; })) {
    if (firing_.empty()) continue;
    const AlertTime ends_at = std::chrono::system_clock::now() + 4 * options_.repost_interval;
    nlohmann::json body = nlohmann::json::array();
    for (const auto& [fingerprint, alert] : firing_) body.push_back(alertmanager_postable(alert, ends_at, options_.generator_url));
    try {
      post(body);
      if (failing) spdlog::info("alert sink alertmanager {}: re-posting works again", options_.url);
      failing = false;
    } catch (const std::exception& e) {
      // Logged once per outage; the next interval tries again, and the
      // alerts stay valid in Alertmanager for four intervals meanwhile.
      if (!failing && !stop_) spdlog::warn("alert sink alertmanager {}: re-posting {} firing alerts failed: {}",
                                           options_.url, firing_.size(), e.what());
      failing = true;
    }
  }
}

void AlertmanagerSink::interrupt() { client_->http.stop(); }

std::string AlertmanagerSink::describe() const { return "alertmanager " + options_.url; }

}  // namespace cw
