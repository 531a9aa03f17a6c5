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
  // Lines longer than this are refused (memory stays bounded); guest-exec output is capped at
  // 16 MiB per stream by qemu-ga, about 43 MiB of base64 for both.
  static constexpr size_t kMaxLine = 64u << 20;

  explicit ReplyReader(size_t max_line = kMaxLine) : max_line_(max_line) {}

  void feed(std::string_view bytes) { buf_.append(bytes.data(), bytes.size()); }
  // The next complete line without its '\n' (bytes of 0xFF inside are kept).
  std::optional<std::string> pop_line();
  // Drops everything up to and including the next 0xFF; true when one was found (false: all
  // buffered bytes were dropped, feed more).
  bool skip_past_sentinel();
  // True when an incomplete line has grown beyond the line cap (kMaxLine unless given).
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
