#include "alerts/alert_book.h"

#include <stdexcept>
#include <utility>

namespace cw {

AlertBook::AlertBook(Notify notify) : notify_(std::move(notify)) {
  if (!notify_) throw std::invalid_argument("AlertBook needs a notify function");
}

bool AlertBook::raise(Alert alert) {
  validate_alert(alert);
  alert.status = AlertStatus::kFiring;
  alert.ends_at.reset();
  if (alert.starts_at == AlertTime{}) alert.starts_at = std::chrono::system_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = firing_.find(alert.labels);
  if (it != firing_.end()) {
    it->second.annotations = std::move(alert.annotations);
    it->second.generator_url = std::move(alert.generator_url);
    return false;
  }
  it = firing_.emplace(alert.labels, std::move(alert)).first;
  notify_(it->second);
  return true;
}

bool AlertBook::resolve(const AlertLabels& labels, AlertTime ends_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = firing_.find(labels);
  if (it == firing_.end()) return false;
  Alert resolved = std::move(it->second);
  firing_.erase(it);
  resolved.status = AlertStatus::kResolved;
  resolved.ends_at = ends_at;
  notify_(resolved);
  return true;
}

bool AlertBook::is_firing(const AlertLabels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  return firing_.count(labels) != 0;
}

std::vector<Alert> AlertBook::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  out.reserve(firing_.size());
  for (const auto& entry : firing_) out.push_back(entry.second);
  return out;
}

}  // namespace cw
