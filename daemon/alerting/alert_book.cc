#include "daemon/alerting/alert_book.h"

#include <stdexcept>
#include <utility>

namespace cw {

AlertBook::AlertBook(Notify notify) : notify_(std::move(notify)) {
  if (!notify_) throw std::invalid_argument("AlertBook needs a notify function");
}

bool AlertBook::raise(Alert alert) {
  check_alert_labels(alert.labels);
  alert.status = AlertStatus::kFiring;
  alert.ends_at = AlertTime{};
  if (alert.starts_at == AlertTime{}) alert.starts_at = std::chrono::system_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = firing_.emplace(alert.labels, std::move(alert));
  if (!inserted) return false;
  notify_(it->second);
  return true;
}

bool AlertBook::resolve(const AlertLabels& labels, AlertTime ends_at) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = firing_.find(labels);
  if (it == firing_.end()) return false;
  Alert resolved = std::move(it->second);
  firing_.erase(it);
  resolved.status = AlertStatus::kResolved;
  resolved.ends_at = ends_at;
  notify_(resolved);
  return true;
}

std::vector<Alert> AlertBook::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Alert> alerts;
  alerts.reserve(firing_.size());
  for (const auto& entry : firing_) alerts.push_back(entry.second);
  return alerts;
}

bool AlertBook::is_firing(const AlertLabels& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return firing_.count(labels) > 0;
}

}  // namespace cw
