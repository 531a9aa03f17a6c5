// Result<T>: recoverable errors are values. Every error names its target (a file, NIC or
// queue), says what went wrong and, where there is something to do, what the user can do.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gn {

struct Error {
  int code = 0;         // errno where the failure came from a system call, else 0
  std::string target;   // the file, NIC, queue or option concerned
  std::string message;  // what went wrong
  std::string hint;     // what the user can do about it (may be empty)

  // "TARGET: MESSAGE (HINT)" on one line.
  std::string text() const {
    std::string s = target.empty() ? message : target + ": " + message;
    if (!hint.empty()) s += " (" + hint + ")";
    return s;
  }
};

inline Error make_error(std::string target, std::string message, std::string hint = {},
                        int code = 0) {
  return Error{code, std::move(target), std::move(message), std::move(hint)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace gn
