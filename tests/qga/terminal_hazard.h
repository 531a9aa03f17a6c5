// What a terminal could act on in captured output: a C0 control byte other than the newline
// that ends a line, DEL, a C1 control (a raw byte, which is never valid UTF-8, or U+0080..U+009F
// encoded), or any other invalid UTF-8. The tests scan every byte the host tool wrote.
#pragma once

#include <string>

namespace gn::test {

// "" when `s` is safe to show; else what was found and where.
inline std::string first_hazard(const std::string& s, bool newlines_allowed = false) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b == '\n' && newlines_allowed) {
      ++i;
      continue;
    }
    if (b < 0x20 || b == 0x7f) return "control byte " + std::to_string(b) + " at offset " + std::to_string(i);
    if (b < 0x80) {
      ++i;
      continue;
    }
    const size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return "invalid UTF-8 at offset " + std::to_string(i);
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return "invalid UTF-8 at offset " + std::to_string(i);
    if (b == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) return "C1 control at offset " + std::to_string(i);
    i += n;
  }
  return "";
}

}  // namespace gn::test
