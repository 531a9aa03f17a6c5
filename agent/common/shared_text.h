// A text that never changes once made and that copies share: a kernel file's text as the probe
// read it, which a plan setting shows as its current value and a journal entry keeps as its
// original without a copy of its own (a mask of 1024 CPUs is 288 characters, and a wide guest
// has tens of thousands of them); the settings of one NIC share its name the same way.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "shared.h"

namespace gn {

class SharedText {
 public:
  SharedText() = default;  // ""
  // A text of its own (one allocation), from a string or a literal, as a std::string takes them.
  SharedText(std::string text) : text_(Shared<std::string>::make(std::move(text))) {}  // NOLINT
  SharedText(const char* text) : SharedText(std::string(text)) {}                     // NOLINT
  // The same text as `text` holds, shared (none: "").
  SharedText(Shared<std::string> text) : text_(std::move(text)) {}  // NOLINT

  const std::string& str() const { return text_ ? *text_ : empty_text(); }
  std::string_view view() const { return str(); }
  operator std::string_view() const { return str(); }  // NOLINT: read wherever a view is
  bool empty() const { return str().empty(); }
  size_t size() const { return str().size(); }
  // Whether the two share one copy (not only equal texts).
  bool same_copy(const SharedText& o) const { return text_ == o.text_; }

  friend bool operator==(const SharedText& a, const SharedText& b) { return a.str() == b.str(); }
  friend bool operator!=(const SharedText& a, const SharedText& b) { return !(a == b); }
  friend bool operator==(const SharedText& a, std::string_view b) { return a.view() == b; }
  friend bool operator!=(const SharedText& a, std::string_view b) { return a.view() != b; }
  friend bool operator==(std::string_view a, const SharedText& b) { return a == b.view(); }
  friend bool operator!=(std::string_view a, const SharedText& b) { return a != b.view(); }
  // The same for a string and a literal, which would otherwise convert either way.
  friend bool operator==(const SharedText& a, const std::string& b) { return a.str() == b; }
  friend bool operator!=(const SharedText& a, const std::string& b) { return a.str() != b; }
  friend bool operator==(const std::string& a, const SharedText& b) { return a == b.str(); }
  friend bool operator!=(const std::string& a, const SharedText& b) { return a != b.str(); }
  friend bool operator==(const SharedText& a, const char* b) { return a.str() == b; }
  friend bool operator!=(const SharedText& a, const char* b) { return a.str() != b; }
  friend std::ostream& operator<<(std::ostream& out, const SharedText& t) { return out << t.str(); }

 private:
  static const std::string& empty_text() {
    static const std::string empty;
    return empty;
  }
  Shared<std::string> text_;
};

}  // namespace gn
