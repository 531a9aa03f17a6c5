#include "run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "durable_file.h"

namespace gn {

namespace {
void on_alarm(int) {}  // only interrupts flock()
}

Result<RunLock> RunLock::acquire(const std::string& path, double wait_seconds) {
  if (auto r = make_directories(std::filesystem::path(path).parent_path().string()); !r) return r.error();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path, std::string("opening the lock file: ") + std::strerror(errno), "run as root", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return RunLock(fd);
  if (errno != EWOULDBLOCK || wait_seconds <= 0) {
    const int err = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
    ::close(fd);
    return make_error(path, "another guest-nettune run holds the lock", "try again, or give --wait SECONDS", err);
  }
  // Block in flock() until a one-shot timer interrupts it (no SA_RESTART).
  struct sigaction sa {}, old {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, &old);
  struct itimerval t {}, old_t {};
  t.it_value.tv_sec = static_cast<time_t>(wait_seconds);
  t.it_value.tv_usec = static_cast<suseconds_t>(std::fmod(wait_seconds, 1.0) * 1e6);
  ::setitimer(ITIMER_REAL, &t, &old_t);
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX);
  } while (rc != 0 && errno == EINTR && [&] {
    struct itimerval left {};
    ::getitimer(ITIMER_REAL, &left);
    return left.it_value.tv_sec != 0 || left.it_value.tv_usec != 0;  // another signal: keep waiting
  }());
  const int err = errno;
  struct itimerval zero {};
  ::setitimer(ITIMER_REAL, &zero, nullptr);
  ::sigaction(SIGALRM, &old, nullptr);
  if (rc == 0) return RunLock(fd);
  ::close(fd);
  return make_error(path, "another guest-nettune run held the lock for " + std::to_string(wait_seconds) + " s",
                    "try again later, or raise --wait", err == EINTR ? ETIMEDOUT : err);
}

RunLock& RunLock::operator=(RunLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace gn
