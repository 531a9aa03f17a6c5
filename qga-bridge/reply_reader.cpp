#include "reply_reader.h"

namespace gn::qga {

std::optional<std::string> ReplyReader::pop_line() {
  const size_t nl = buf_.find('\n', start_ + scanned_);
  if (nl == std::string::npos) {
    scanned_ = buf_.size() - start_;
    return std::nullopt;
  }
  std::string line = buf_.substr(start_, nl - start_);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  start_ = nl + 1;
  scanned_ = 0;
  compact();
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
