// Deadlines: every wait in the bridge has one.
#pragma once

#include <algorithm>
#include <chrono>

namespace gn::qga {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  static Deadline in(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline in_seconds(double s) {
    return in(std::chrono::milliseconds(static_cast<long long>(s * 1000)));
  }
  bool passed() const { return Clock::now() >= at_; }
  // Milliseconds left, at least 0, for poll(): rounded up, so that a poll that times out has
  // passed the deadline (rounded down, it wakes up to a millisecond early and the caller cannot
  // tell which deadline ended the wait).
  int remaining_ms() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
  }
  // The earlier of two deadlines.
  Deadline min(const Deadline& o) const { return Deadline(std::min(at_, o.at_)); }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

}  // namespace gn::qga
