// ReplyReader: splits what the agent sends into lines, and finds the 0xFF sync sentinel.
// Pure buffer logic (no I/O), so that it can be tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gn::qga {

class ReplyReader {
 public:
  // qemu-ga captures at most 16 MiB of each of a program's stdout and stderr
  // (GUEST_EXEC_MAX_OUTPUT); more is a guest-nettune-host error, "output cut short".
  static constexpr size_t kExecStreamCap = size_t{16} << 20;
  // The longest reply line that can carry that: guest-exec-status with both streams full. Each
  // is base64 on the line (4 characters per 3 bytes, padded: 22369624 for 16 MiB; qemu-ga
  // neither wraps nor escapes it), plus the envelope: {"return": {"exitcode": N, "out-data":
  // "...", "err-data": "...", "out-truncated": false, "err-truncated": false, "exited": true},
  // "id": "gn-..."} is under 200 bytes; 64 KiB leaves room for spacing and members a later
  // qemu-ga may add. 44804784 bytes (42.7 MiB): a longer line is refused, whatever it holds.
  static constexpr size_t kBase64OfStream = (kExecStreamCap + 2) / 3 * 4;
  static constexpr size_t kEnvelope = size_t{64} << 10;
  static constexpr size_t kMaxLine = 2 * kBase64OfStream + kEnvelope;
  // The most one feed() adds between two overflowed() checks (the socket reads this much).
  static constexpr size_t kMaxRead = size_t{64} << 10;

  explicit ReplyReader(size_t max_line = kMaxLine) : max_line_(max_line) {}

  void feed(std::string_view bytes);
  // The next complete line without its '\n' (bytes of 0xFF inside are kept).
  std::optional<std::string> pop_line();
  // Drops everything up to and including the next 0xFF; true when one was found (false: all
  // buffered bytes were dropped, feed more).
  bool skip_past_sentinel();
  // True when an incomplete line has grown beyond the line cap (kMaxLine unless given; the reader then holds at most
  // that plus one read).
  bool overflowed() const { return buf_.size() - start_ > max_line_ && buf_.find('\n', start_) == std::string::npos; }
  size_t max_line() const { return max_line_; }
  size_t buffered() const { return buf_.size() - start_; }
  void clear();

 private:
  void compact();
  size_t max_line_;
  std::string buf_;
  size_t start_ = 0;  // consumed prefix of buf_
  size_t scanned_ = 0;  // bytes after start_ known to hold no '\n'
};

}  // namespace gn::qga
