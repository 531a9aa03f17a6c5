// Shared<T>: an immutable value that copies share, counted without atomics. The agent runs on
// one thread and keeps tens of thousands of copies of a few texts and masks (every queue file of
// a wide guest holds the same empty mask; a plan's settings share their NIC's name and their
// block's CPUs): a std::shared_ptr would make each copy and each drop a locked instruction and
// take 16 bytes where this takes 8. Never hand one to another thread (the host tool holds none).
#pragma once

#include <cstddef>
#include <utility>

namespace gn {

// GCC 12 warns of a use after delete where one copy's count is read after another copy's drop
// (it cannot see that a count stays above zero while a copy holds it).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
template <class T>
class Shared {
 public:
  Shared() = default;  // none
  // A new value of its own (one allocation: the value and its count).
  template <class... Args>
  static Shared make(Args&&... args) {
    Shared s;
    s.box_ = new Box{T(std::forward<Args>(args)...), 1};
    return s;
  }

  Shared(const Shared& o) noexcept : box_(o.box_) {
    if (box_) ++box_->count;
  }
  Shared(Shared&& o) noexcept : box_(std::exchange(o.box_, nullptr)) {}
  Shared& operator=(const Shared& o) noexcept {
    Box* const kept = o.box_;  // o may be this
    if (kept) ++kept->count;
    drop();
    box_ = kept;
    return *this;
  }
  Shared& operator=(Shared&& o) noexcept {
    if (this != &o) {
      drop();
      box_ = std::exchange(o.box_, nullptr);
    }
    return *this;
  }
  ~Shared() { drop(); }

  explicit operator bool() const { return box_ != nullptr; }
  const T& operator*() const { return box_->value; }
  const T* operator->() const { return &box_->value; }
  const T* get() const { return box_ ? &box_->value : nullptr; }
  // How many copies hold it (0 for none): for tests of sharing.
  size_t use_count() const { return box_ ? box_->count : 0; }
  // The same value (one copy), not only an equal one.
  friend bool operator==(const Shared& a, const Shared& b) { return a.box_ == b.box_; }
  friend bool operator!=(const Shared& a, const Shared& b) { return a.box_ != b.box_; }

 private:
  struct Box {
    const T value;
    size_t count;
  };
  void drop() noexcept {
    if (box_ && --box_->count == 0) delete box_;
    box_ = nullptr;
  }
  Box* box_ = nullptr;
};
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

}  // namespace gn
