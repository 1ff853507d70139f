// The alerts currently firing, deduplicated by label set: raising an alert
// that already fires notifies nobody; resolving it notifies once, with
// endsAt. Detectors can therefore raise on every check without spamming.
#ifndef CW_DAEMON_ALERTING_ALERT_BOOK_H_
#define CW_DAEMON_ALERTING_ALERT_BOOK_H_

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "daemon/alerting/alert.h"

namespace cw {

class AlertBook {
 public:
  // Called for every notification, under the book's lock so that a firing
  // notification always precedes its resolution. It must not block or call
  // back into the book: AlertDispatcher::emit fits.
  using Notify = std::function<void(const Alert&)>;

  explicit AlertBook(Notify notify);

  // Fires `alert` (its status is forced to firing; an unset startsAt becomes
  // now) unless an alert with the same labels already fires. Returns whether
  // it notified. Throws std::invalid_argument on a missing required label.
  bool raise(Alert alert);

  // Resolves the firing alert with these labels: notifies once with status
  // resolved and endsAt = `ends_at`, then forgets it. Returns false (and
  // notifies nobody) when no such alert fires.
  bool resolve(const AlertLabels& labels, AlertTime ends_at = std::chrono::system_clock::now());

  // The firing alerts, ordered by label set.
  std::vector<Alert> active() const;
  bool is_firing(const AlertLabels& labels) const;

 private:
  Notify notify_;
  mutable std::mutex mutex_;
  std::map<AlertLabels, Alert> firing_;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ALERT_BOOK_H_
