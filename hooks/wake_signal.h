// A file descriptor one thread can make readable to wake another out of
// zmq::poll (Linux eventfd). The publisher's sender sleeps in poll on its
// socket and this, instead of waking every few milliseconds to look for new
// snapshots: those wake-ups were most of what the hooks cost a training job
// (cw_bench_tinygpt's counted cost).
#ifndef CW_HOOKS_WAKE_SIGNAL_H_
#define CW_HOOKS_WAKE_SIGNAL_H_

namespace cw {

class WakeSignal {
 public:
  WakeSignal();  // throws std::system_error if the kernel gives no eventfd
  ~WakeSignal();
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  int fd() const { return fd_; }  // readable after notify(), until clear()
  void notify();                  // any thread
  void clear();                   // the waiting thread, after it woke

 private:
  int fd_ = -1;
};

}  // namespace cw

#endif  // CW_HOOKS_WAKE_SIGNAL_H_
