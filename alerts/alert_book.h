// The set of firing alerts, deduplicated by label set. Detectors may report
// the same condition at every snapshot; receivers should hear about it once
// when it starts and once when it ends, as with Alertmanager.
#ifndef CW_ALERTS_ALERT_BOOK_H_
#define CW_ALERTS_ALERT_BOOK_H_

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "alerts/alert.h"

namespace cw {

class AlertBook {
 public:
  // `notify` receives every notification (a newly firing alert, or a
  // resolved one), called under the book's lock so notifications leave in
  // the order the book changed. It must not block: pass
  // AlertDispatcher::emit, not a sink.
  using Notify = std::function<void(const Alert&)>;
  explicit AlertBook(Notify notify);

  AlertBook(const AlertBook&) = delete;
  AlertBook& operator=(const AlertBook&) = delete;

  // Fires `alert` (status forced to firing, endsAt cleared; startsAt set to
  // now if left at the epoch). Returns true if it notified. If the same
  // label set is already firing nothing is sent: its annotations and
  // generatorURL are replaced by the new ones and its startsAt is kept.
  // Throws std::invalid_argument if a required label is missing.
  bool raise(Alert alert);

  // Resolves the firing alert with these labels: notifies once with status
  // resolved and endsAt = `ends_at`, and forgets it (raising it again later
  // starts a new alert). Returns false, sending nothing, if none is firing.
  bool resolve(const AlertLabels& labels, AlertTime ends_at = std::chrono::system_clock::now());

  bool is_firing(const AlertLabels& labels) const;
  std::vector<Alert> active() const;  // the firing alerts, ordered by label set

 private:
  Notify notify_;
  mutable std::mutex mu_;
  std::map<AlertLabels, Alert> firing_;
};

}  // namespace cw

#endif  // CW_ALERTS_ALERT_BOOK_H_
