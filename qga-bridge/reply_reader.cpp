#include "reply_reader.h"

#include <algorithm>

namespace gn::qga {

void ReplyReader::feed(std::string_view bytes) {
  if (buf_.size() + bytes.size() > buf_.capacity() && start_ > 0) {  // drop what was read before growing
    buf_.erase(0, start_);
    start_ = 0;
  }
  // Past 1 MiB, make room for the longest line and one more read at once: doubling would copy a
  // 32 MiB buffer into a new one (both resident) on its way to the cap. Pages never written
  // cost nothing.
  const size_t need = buf_.size() + bytes.size();
  if (need > buf_.capacity() && need > (size_t{1} << 20)) buf_.reserve(std::max(need, max_line_ + kMaxRead));
  buf_.append(bytes.data(), bytes.size());
}

std::optional<std::string> ReplyReader::pop_line() {
  const size_t nl = buf_.find('\n', start_ + scanned_);
  if (nl == std::string::npos) {
    scanned_ = buf_.size() - start_;
    return std::nullopt;
  }
  std::string line;
  if (nl + 1 == buf_.size()) {
    // The usual case, and the one that matters for a long line: hand the buffer over, no copy.
    line = std::move(buf_);
    line.resize(nl);
    line.erase(0, start_);
    clear();
  } else {
    line = buf_.substr(start_, nl - start_);
    start_ = nl + 1;
    scanned_ = 0;
    compact();
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool ReplyReader::skip_past_sentinel() {
  const size_t ff = buf_.find('\xff', start_);
  if (ff == std::string::npos) {
    clear();
    return false;
  }
  start_ = ff + 1;
  scanned_ = 0;
  compact();
  return true;
}

void ReplyReader::clear() {
  buf_.clear();
  start_ = 0;
  scanned_ = 0;
}

void ReplyReader::compact() {
  // Keep memory to what is unread: drop the consumed prefix once it dominates.
  if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);
    start_ = 0;
  }
}

}  // namespace gn::qga
