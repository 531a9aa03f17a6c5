// A streaming JSON writer for the agent's big documents (plan, status, apply and revert results,
// the journal). It writes the same bytes as nlohmann::json's dump(indent) of the equivalent tree —
// keys sorted, the same indent, string escapes and number forms — without building the tree: at
// 1024 CPUs × 16 NICs × 256 queues the tree cost several times the writing and most of the peak
// memory.
//
// Keys must be given in the order nlohmann sorts them (byte order); a key out of order throws
// std::logic_error, so a renderer that breaks the order fails its golden test instead of writing a
// document that parses the same but reads differently.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gn {

class JsonOut {
 public:
  // Writes into `sink`, a block at a time (nothing is kept beyond one block).
  explicit JsonOut(std::ostream& sink, unsigned indent = 2) : sink_(&sink), indent_(indent) {}
  // Writes into `text`, appending.
  explicit JsonOut(std::string& text, unsigned indent = 2) : text_(&text), indent_(indent) {}
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;
  ~JsonOut() { flush(); }

  JsonOut& begin_object();
  JsonOut& end_object();
  JsonOut& begin_array();
  JsonOut& end_array();
  // The next member's key, inside an object.
  JsonOut& key(std::string_view k);

  JsonOut& value(std::string_view s);
  JsonOut& value(const std::string& s) { return value(std::string_view(s)); }
  JsonOut& value(const char* s) { return value(std::string_view(s)); }
  JsonOut& value(bool b) { return scalar(b ? "true" : "false"); }
  JsonOut& value(double d);
  JsonOut& null() { return scalar("null"); }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonOut& value(T n) {
    if constexpr (std::is_signed_v<T>) return signed_integer(static_cast<long long>(n));
    else return unsigned_integer(static_cast<unsigned long long>(n));
  }
  // A whole nlohmann value (a document read back from a file), laid out at this depth.
  JsonOut& value(const nlohmann::json& j);
  // The one JSON document `in` holds, laid out at this depth exactly as value(json::parse(in))
  // would lay it out, without building it: read once to check, once more to write. False, with
  // nothing written and `in` back where it was, when `in` holds anything else, or an object whose
  // keys are not in byte order (the caller parses those: nlohmann sorts them). Throws when the
  // second reading differs from the first (something rewrote the file in place): the document is
  // then half written. After true, `in` is past the document (at its end, for a file).
  bool copy(std::istream& in);

  // key + value in one call.
  template <class V>
  JsonOut& member(std::string_view k, const V& v) {
    key(k);
    return value(v);
  }

  // Sends what is buffered to the stream (a no-op when writing into a string).
  void flush();

 private:
  struct Level {
    bool array = false;
    bool empty = true;
    std::string last_key;
    bool has_key = false;
  };
  // Ends the innermost object (or array): its closing line and bracket.
  JsonOut& close(bool array);
  JsonOut& scalar(std::string_view text);
  JsonOut& signed_integer(long long n);
  JsonOut& unsigned_integer(unsigned long long n);
  // Before a value: the comma, newline and indent an array element needs (an object member's
  // were written by key()).
  void before_value();
  void indent(size_t depth);
  // Room for n more bytes at the end of the buffer.
  char* room(size_t n) {
    if (cap_ - len_ < n) grow(n);
    return mem_.get() + len_;
  }
  void grow(size_t n);
  void put(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(room(s.size()), s.data(), s.size());
    len_ += s.size();
  }
  void put(char c) {
    *room(1) = c;
    ++len_;
  }
  void maybe_flush();

  std::ostream* sink_ = nullptr;
  std::string* text_ = nullptr;
  unsigned indent_ = 2;  // spaces per level, as dump(indent)
  // What is not yet flushed: len_ bytes of cap_ (flushed once it holds a block).
  std::unique_ptr<char[]> mem_;
  size_t len_ = 0;
  size_t cap_ = 0;
  std::vector<Level> levels_;
};

// A document written by `write`, then a newline, onto `out`.
template <class Write>
void print_json(std::ostream& out, Write&& write) {
  {
    JsonOut j(out);
    write(j);
  }
  out << "\n";
}

// A document written by `write` as text (without a final newline).
template <class Write>
std::string json_text(Write&& write, unsigned indent = 2) {
  std::string text;
  {
    JsonOut j(text, indent);
    write(j);
  }
  return text;
}

// A document written by `write` as an nlohmann value (for tests and the schema validator).
template <class Write>
nlohmann::json json_of(Write&& write) {
  return nlohmann::json::parse(json_text(write));
}

}  // namespace gn
