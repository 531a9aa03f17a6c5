// A guest's string made safe to show or to put in a metric label: printable ASCII is kept,
// every other byte becomes '?', and it is cut to `max` bytes (the cut marked with '~').
#pragma once

#include <string>

namespace gn::qga {

inline std::string neutralise_guest_text(const std::string& s, size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max) {
      if (!out.empty()) out.back() = '~';
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace gn::qga
