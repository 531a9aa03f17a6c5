#include "json_plain.h"

#include <cstdint>
#include <limits>
#include <string>

namespace gn {

namespace {

class PlainReader {
 public:
  PlainReader(std::string_view text, nlohmann::json_sax<nlohmann::json>& sax)
      : p_(text.data()), end_(text.data() + text.size()), sax_(sax) {}

  bool document() {
    skip_space();
    if (!value(0)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 64;
  static constexpr int kMaxDigits = 18;  // below 10^18: an unsigned and a signed 64-bit number alike
  // nlohmann's parser passes an unknown element count to start_object and start_array.
  static constexpr std::size_t kUnknownSize = std::numeric_limits<std::size_t>::max();

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // A string at p_ (its opening quote) into str_; false for anything but printable ASCII.
  bool string() {
    const char* from = ++p_;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        str_.assign(from, static_cast<size_t>(p_ - from));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    return false;
  }
  bool number() {
    const char* from = p_;
    std::uint64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<std::uint64_t>(*p_++ - '0');
    const auto digits = p_ - from;
    if (digits > kMaxDigits || (digits > 1 && *from == '0')) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    return sax_.number_unsigned(v);
  }
  bool value(int depth) {
    if (p_ == end_) return false;
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
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return sax_.end_object();
    }
    while (true) {
      if (p_ == end_ || *p_ != '"' || !string() || !sax_.key(str_)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!value(depth)) return false;
      skip_space();
      if (p_ == end_) return false;
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
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return sax_.end_array();
    }
    while (true) {
      if (!value(depth)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return sax_.end_array();
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  const char* p_;
  const char* const end_;
  nlohmann::json_sax<nlohmann::json>& sax_;
  std::string str_;  // the string read last, handed to the handler (which may take it)
};

}  // namespace

bool sax_parse_plain(std::string_view text, nlohmann::json_sax<nlohmann::json>& sax) {
  return PlainReader(text, sax).document();
}

}  // namespace gn
