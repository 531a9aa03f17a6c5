#include "neutralise.h"

namespace gn {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void escape_byte(std::string& out, unsigned char b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0xf];
}

void escape_code_point(std::string& out, char32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
}

bool continuation(unsigned char b) { return (b & 0xc0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
size_t sequence_length(std::string_view s, size_t i, char32_t& cp) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = at(i);
  const size_t left = s.size() - i;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if (b >= 0xc2 && b <= 0xdf) {
    if (left < 2 || !continuation(at(i + 1))) return 0;
    cp = static_cast<char32_t>(((b & 0x1fu) << 6) | (at(i + 1) & 0x3fu));
    return 2;
  }
  if (b >= 0xe0 && b <= 0xef) {
    if (left < 3) return 0;
    const unsigned char b1 = at(i + 1);
    const unsigned char lo = b == 0xe0 ? 0xa0 : 0x80;  // overlong below U+0800
    const unsigned char hi = b == 0xed ? 0x9f : 0xbf;  // surrogates U+D800..U+DFFF
    if (b1 < lo || b1 > hi || !continuation(at(i + 2))) return 0;
    cp = static_cast<char32_t>(((b & 0x0fu) << 12) | ((b1 & 0x3fu) << 6) | (at(i + 2) & 0x3fu));
    return 3;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (left < 4) return 0;
    const unsigned char b1 = at(i + 1);
    const unsigned char lo = b == 0xf0 ? 0x90 : 0x80;  // overlong below U+10000
    const unsigned char hi = b == 0xf4 ? 0x8f : 0xbf;  // above U+10FFFF
    if (b1 < lo || b1 > hi || !continuation(at(i + 2)) || !continuation(at(i + 3))) return 0;
    cp = static_cast<char32_t>(((b & 0x07u) << 18) | ((b1 & 0x3fu) << 12) | ((at(i + 2) & 0x3fu) << 6) |
                               (at(i + 3) & 0x3fu));
    return 4;
  }
  return 0;
}

// Characters that are valid UTF-8 but act on the terminal or on how the rest of the line reads.
bool shown_as_code_point(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) ||      // C1 controls (0x9b is CSI, 0x9d OSC)
         (cp >= 0x202a && cp <= 0x202e) ||  // bidi embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
         cp == 0x2028 || cp == 0x2029 ||    // line and paragraph separators
         cp == 0xfeff;                      // byte order mark
}

}  // namespace

std::string neutralise(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (b < 0x20 || b == 0x7f) {
      escape_byte(out, b);
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t n = sequence_length(text, i, cp);
    if (n == 0) {
      escape_byte(out, b);
      ++i;
      continue;
    }
    if (shown_as_code_point(cp)) escape_code_point(out, cp);
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string neutralise(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return neutralise(text);
  // Cut at a character boundary where possible, so that a character is not split into bytes.
  const auto inside = [&](size_t k) { return continuation(static_cast<unsigned char>(text[k])); };
  size_t cut = max_bytes;
  for (int k = 0; k < 3 && cut > 0 && inside(cut); ++k) --cut;
  if (inside(cut)) cut = max_bytes;  // not a character at all: cut anywhere
  return neutralise(text.substr(0, cut)) + "...[" + std::to_string(text.size() - cut) + " more bytes]";
}

std::string dump_for_people(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

}  // namespace gn
