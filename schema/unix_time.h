// The clock of every *_unix_ms field the wire and the store carry
// (a run's creation, a snapshot's arrival, an event's time).
#ifndef CW_SCHEMA_UNIX_TIME_H_
#define CW_SCHEMA_UNIX_TIME_H_

#include <chrono>
#include <cstdint>

namespace cw {

// Milliseconds since the Unix epoch, from the system clock.
inline uint64_t unix_now_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

}  // namespace cw

#endif  // CW_SCHEMA_UNIX_TIME_H_
