#include "hooks/wake_signal.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace cw {

WakeSignal::WakeSignal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "conceptwatch: eventfd for the publisher");
}

WakeSignal::~WakeSignal() { ::close(fd_); }

void WakeSignal::notify() {
  const uint64_t one = 1;
  // Fails only when the counter would overflow, i.e. it is readable anyway.
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void WakeSignal::clear() {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);  // EAGAIN when not signalled
}

}  // namespace cw
