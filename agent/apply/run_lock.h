// One lock serialises runs (boot, udev, admin and host can overlap): flock on a file.
#pragma once

#include <string>

#include "result.h"

namespace gn {

class RunLock {
 public:
  // Waits up to wait_seconds (0: do not wait) for the exclusive lock on `path` (created if
  // needed). Error code ETIMEDOUT when another run held it all that time.
  static Result<RunLock> acquire(const std::string& path, double wait_seconds);
  RunLock(RunLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RunLock& operator=(RunLock&& o) noexcept;
  RunLock(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace gn
