#include "json_plain.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace gn {

namespace {

class PlainReader {
 public:
  PlainReader(const std::function<std::string_view()>& more, nlohmann::json_sax<nlohmann::json>& sax)
      : more_(more), sax_(sax) {}

  bool document() {
    skip_space();
    if (!value(0)) return false;
    skip_space();
    return !avail();
  }

 private:
  static constexpr int kMaxDepth = 64;
  static constexpr int kMaxDigits = 18;  // below 10^18: an unsigned and a signed 64-bit number alike
  // nlohmann's parser passes an unknown element count to start_object and start_array.
  static constexpr std::size_t kUnknownSize = std::numeric_limits<std::size_t>::max();

  // Whether a byte is left at p_, taking the next block when this one is used up.
  bool avail() { return p_ != end_ || refill(); }
  bool refill() {
    const std::string_view block = more_();
    p_ = block.data(), end_ = block.data() + block.size();
    return !block.empty();
  }
  void skip_space() {
    while (avail() && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // A string at p_ (its opening quote) into str_; false for anything but printable ASCII.
  bool string() {
    ++p_;
    str_.clear();
    while (true) {
      const char* from = p_;
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"') {
          str_.append(from, static_cast<size_t>(p_ - from));
          ++p_;
          return true;
        }
        if (c < 0x20 || c >= 0x80 || c == '\\') return false;
        ++p_;
      }
      str_.append(from, static_cast<size_t>(p_ - from));
      if (!refill()) return false;
    }
  }
  bool number() {
    const char first = *p_;
    int digits = 0;
    std::uint64_t v = 0;
    for (; avail() && *p_ >= '0' && *p_ <= '9'; ++p_, ++digits) {
      if (digits == kMaxDigits) return false;
      v = v * 10 + static_cast<std::uint64_t>(*p_ - '0');
    }
    if (digits > 1 && first == '0') return false;
    if (avail() && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    return sax_.number_unsigned(v);
  }
  bool value(int depth) {
    if (!avail()) return false;
    const char c = *p_;
    if (c == '"') return string() && sax_.string(str_);
    if (c >= '0' && c <= '9') return number();
    if (depth >= kMaxDepth) return false;
    if (c == '{') return object(depth + 1);
    if (c == '[') return array(depth + 1);
    return false;
  }
  bool object(int depth) {
    ++p_;
    if (!sax_.start_object(kUnknownSize)) return false;
    skip_space();
    if (avail() && *p_ == '}') {
      ++p_;
      return sax_.end_object();
    }
    while (true) {
      if (!avail() || *p_ != '"' || !string() || !sax_.key(str_)) return false;
      skip_space();
      if (!avail() || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!value(depth)) return false;
      skip_space();
      if (!avail()) return false;
      if (*p_ == '}') {
        ++p_;
        return sax_.end_object();
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }
  bool array(int depth) {
    ++p_;
    if (!sax_.start_array(kUnknownSize)) return false;
    skip_space();
    if (avail() && *p_ == ']') {
      ++p_;
      return sax_.end_array();
    }
    while (true) {
      if (!value(depth)) return false;
      skip_space();
      if (!avail()) return false;
      if (*p_ == ']') {
        ++p_;
        return sax_.end_array();
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  const std::function<std::string_view()>& more_;
  const char* p_ = nullptr;  // the next byte, in the block [p_, end_)
  const char* end_ = nullptr;
  nlohmann::json_sax<nlohmann::json>& sax_;
  std::string str_;  // the string read last, handed to the handler (which may take it)
};

}  // namespace

bool sax_parse_plain(const std::function<std::string_view()>& more, nlohmann::json_sax<nlohmann::json>& sax) {
  return PlainReader(more, sax).document();
}

bool sax_parse_plain(std::string_view text, nlohmann::json_sax<nlohmann::json>& sax) {
  const std::function<std::string_view()> once = [&text] { return std::exchange(text, std::string_view()); };
  return sax_parse_plain(once, sax);
}

}  // namespace gn
