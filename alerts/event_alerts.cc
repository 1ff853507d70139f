#include "alerts/event_alerts.h"

#include <map>
#include <tuple>

#include "alerts/sink_factory.h"

namespace cw {
namespace {

std::string text(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

AlertLabels labels_for(const nlohmann::json& event, const char* alertname, const char* detector, const char* severity) {
  return {{"alertname", alertname},
          {"run", event.value("run", "")},
          {"tap", event.value("tap", "")},
          {"detector", detector},
          {"severity", severity}};
}

}  // namespace

EventAlerts::EventAlerts(const AlertsConfig& config) : config_(config), dispatcher_(make_alert_dispatcher(config)) {
  book_ = std::make_unique<AlertBook>([this](const Alert& alert) { dispatcher_->emit(alert); });
}

EventAlerts::~EventAlerts() {
  book_.reset();
  dispatcher_->shutdown(config_.shutdown_deadline);
}

void EventAlerts::on_event(const nlohmann::json& event) {
  const std::string type = event.value("type", "");
  if (type == "phase_transition" || type == "phase_transition_resolved" || type == "phase_transition_features") {
    Alert alert;
    alert.labels = labels_for(event, "PhaseTransition", "changepoint", "warning");
    alert.labels["transition"] = text(event["transition"]);
    if (type == "phase_transition_resolved") {
      book_->resolve(alert.labels);
      return;
    }
    // A feature series joined a firing alert: its annotations name it from
    // now on (the book sends nothing for an alert already firing; a resolved
    // one is not raised again).
    if (type == "phase_transition_features" && !book_->is_firing(alert.labels)) return;
    std::string series;
    for (const auto& move : event["series"]) series += (series.empty() ? "" : ",") + text(move["series"]);
    // summary and description: the two annotations Alertmanager's own
    // templates (and most receivers) show.
    alert.annotations = {{"summary", "training passed a phase transition (onset step " + text(event["onset_step"]) + ")"},
                         {"description", "run " + event.value("run", "") + ", tap " + event.value("tap", "") +
                                             ": " + (series.empty() ? "a watched series" : series) +
                                             " moved from step " + text(event["onset_step"]) + ", raised at step " +
                                             text(event["alarm_step"])},
                         {"onset_step", text(event["onset_step"])},
                         {"alarm_step", text(event["alarm_step"])},
                         {"series", series}};
    book_->raise(alert);
  } else if (type == "phase") {
    Alert previous;
    previous.labels = labels_for(event, "TrainingPhase", "entropy", "info");
    previous.labels["phase"] = text(event["previous_phase"]);
    book_->resolve(previous.labels);
    Alert alert;
    alert.labels = labels_for(event, "TrainingPhase", "entropy", "info");
    alert.labels["phase"] = text(event["phase"]);
    alert.annotations = {{"summary", "training entered the " + text(event["phase"]) + " phase at step " + text(event["step"])},
                         {"description", "run " + event.value("run", "") + ", tap " + event.value("tap", "") +
                                             ": the loss (" + text(event["loss"]) + ") left the " +
                                             text(event["previous_phase"]) + " phase"},
                         {"step", text(event["step"])},
                         {"loss", text(event["loss"])},
                         {"bigram_entropy", text(event["bigram_entropy"])}};
    book_->raise(alert);
  } else if (type == "feature_emerged" || type == "feature_faded" || type == "feature_strengthened") {
    Alert emerged;
    emerged.labels = labels_for(event, "FeatureEmerged", "emergence", "info");
    emerged.labels["feature"] = text(event["feature"]);
    // Strengthened: its activations say it was there before, so an earlier
    // emergence alert for it was wrong.
    if (type == "feature_faded" || type == "feature_strengthened") {
      book_->resolve(emerged.labels);
      return;
    }
    emerged.annotations = {{"summary", "feature " + text(event["feature"]) + " emerged at step " + text(event["step"])},
                           {"description", "run " + event.value("run", "") + ", tap " + event.value("tap", "") +
                                               ": `conceptwatch feature " + text(event["feature"]) + " --run " +
                                               event.value("run", "") + "` shows its trajectory and top contexts"},
                           {"step", text(event["step"])},
                           {"detected_at_step", text(event["detected_at_step"])}};
    book_->raise(emerged);
  }
}

nlohmann::json EventAlerts::status() const {
  nlohmann::json sinks = nlohmann::json::array();
  for (const auto& s : dispatcher_->stats()) {
    sinks.push_back({{"sink", s.name}, {"delivered", s.delivered}, {"retried", s.retried}, {"dropped", s.dropped()},
                     {"queued", s.queued}, {"last_error", s.last_error}});
  }
  // Firing alerts counted by (alertname, run, tap): the families an
  // operator's Prometheus rules select on (/metrics conceptwatch_alerts_firing).
  const std::vector<Alert> active = book_->active();
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> counts;
  for (const Alert& alert : active) {
    const auto label = [&alert](const char* name) {
      const auto it = alert.labels.find(name);
      return it == alert.labels.end() ? std::string() : it->second;
    };
    ++counts[{label("alertname"), label("run"), label("tap")}];
  }
  nlohmann::json firing_by = nlohmann::json::array();
  for (const auto& [key, count] : counts)
    firing_by.push_back({{"alertname", std::get<0>(key)}, {"run", std::get<1>(key)}, {"tap", std::get<2>(key)}, {"count", count}});
  return {{"sinks", sinks}, {"firing", active.size()}, {"firing_by", firing_by}};
}

}  // namespace cw
