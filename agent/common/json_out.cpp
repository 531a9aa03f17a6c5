#include "json_out.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <istream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace gn {

namespace {
constexpr size_t kBlock = 1 << 16;

constexpr uint64_t kOnes = 0x0101010101010101u;  // 0x01 in every byte of a word

// Whether none of the word's eight bytes is below 0x20, has the top bit, or is 0x7f, '"' or a backslash.
bool plain_word(uint64_t x) {
  constexpr uint64_t highs = kOnes * 0x80;
  const auto has_zero = [](uint64_t v) { return ((v - kOnes) & ~v & highs) != 0; };
  const auto has_below = [](uint64_t v, uint64_t n) { return ((v - kOnes * n) & ~v & highs) != 0; };
  return (x & highs) == 0 && !has_below(x, 0x20) && !has_zero(x ^ (kOnes * 0x7f)) && !has_zero(x ^ (kOnes * '"')) &&
         !has_zero(x ^ (kOnes * '\\'));
}
// True when nlohmann writes `s` as it is between quotes: printable ASCII without '"' and backslashes.
// Everything else (control bytes, UTF-8, bytes that are not UTF-8) goes through nlohmann itself,
// so that escapes and errors stay exactly its own. Eight bytes at a time: a plan's JSON checks
// 40k masks of 288 characters.
bool plain(std::string_view s) {
  size_t i = 0;
  for (uint64_t x; i + 8 <= s.size(); i += 8) {
    std::memcpy(&x, s.data() + i, 8);
    if (!plain_word(x)) return false;
  }
  if (i == s.size()) return true;
  // The tail as one more word, the rest of it a plain letter.
  uint64_t x = kOnes * 'a';
  std::memcpy(&x, s.data() + i, s.size() - i);
  return plain_word(x);
}
// Reads a document without keeping it, and says whether each object's keys come in byte order.
class KeyOrderCheck : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    last_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    auto& [has, last] = last_.back();
    if (has && !(last < k)) return false;
    has = true;
    last = k;
    return true;
  }
  bool end_object() override {
    last_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  std::vector<std::pair<bool, std::string>> last_;  // per open object: a key seen, the last one
};

// Hands each event of a document to a JsonOut.
class Forward : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Forward(JsonOut& out) : out_(out) {}
  bool null() override { return out_.null(), true; }
  bool boolean(bool b) override { return out_.value(b), true; }
  bool number_integer(number_integer_t n) override { return out_.value(n), true; }
  bool number_unsigned(number_unsigned_t n) override { return out_.value(n), true; }
  bool number_float(number_float_t d, const string_t&) override { return out_.value(d), true; }
  bool string(string_t& s) override { return out_.value(std::string_view(s)), true; }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return out_.begin_object(), true; }
  bool key(string_t& k) override { return out_.key(k), true; }
  bool end_object() override { return out_.end_object(), true; }
  bool start_array(std::size_t) override { return out_.begin_array(), true; }
  bool end_array() override { return out_.end_array(), true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  JsonOut& out_;
};
}  // namespace

void JsonOut::grow(size_t n) {
  size_t cap = std::max<size_t>(cap_ * 2, kBlock + 256);
  while (cap - len_ < n) cap *= 2;
  auto mem = std::make_unique<char[]>(cap);
  if (len_) std::memcpy(mem.get(), mem_.get(), len_);
  mem_ = std::move(mem);
  cap_ = cap;
}

void JsonOut::maybe_flush() {
  if (len_ >= kBlock) flush();
}

void JsonOut::flush() {
  if (len_ == 0) return;
  if (text_) text_->append(mem_.get(), len_);
  else sink_->write(mem_.get(), static_cast<std::streamsize>(len_));
  len_ = 0;
}

void JsonOut::indent(size_t depth) {
  const size_t n = indent_ * depth;
  std::memset(room(n), ' ', n);
  len_ += n;
}

void JsonOut::before_value() {
  if (levels_.empty() || !levels_.back().array) return;  // top level, or after key()
  Level& l = levels_.back();
  put(l.empty ? "\n" : ",\n");
  l.empty = false;
  indent(levels_.size());
}

JsonOut& JsonOut::key(std::string_view k) {
  if (levels_.empty() || levels_.back().array) throw std::logic_error("JSON key \"" + std::string(k) + "\" outside an object");
  Level& l = levels_.back();
  if (l.has_key && !(l.last_key < k))
    throw std::logic_error("JSON key \"" + std::string(k) + "\" after \"" + l.last_key + "\": keys go in byte order");
  l.last_key.assign(k.data(), k.size());
  l.has_key = true;
  put(l.empty ? "\n" : ",\n");
  l.empty = false;
  indent(levels_.size());
  if (plain(k)) {
    // The common case in one step: "key": 
    char* p = room(k.size() + 4);
    *p++ = '"';
    if (!k.empty()) std::memcpy(p, k.data(), k.size());
    std::memcpy(p + k.size(), "\": ", 3);
    len_ += k.size() + 4;
  } else {
    value(k);
    put(": ");
  }
  return *this;
}

JsonOut& JsonOut::begin_object() {
  before_value();
  put('{');
  levels_.emplace_back();
  return *this;
}

JsonOut& JsonOut::begin_array() {
  before_value();
  put('[');
  levels_.emplace_back().array = true;
  return *this;
}

JsonOut& JsonOut::end_object() { return close(false); }
JsonOut& JsonOut::end_array() { return close(true); }

JsonOut& JsonOut::close(bool array) {
  if (levels_.empty() || levels_.back().array != array)
    throw std::logic_error(array ? "JSON end_array without an open array" : "JSON end_object without an open object");
  const bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) {
    put('\n');
    indent(levels_.size());
  }
  put(array ? ']' : '}');
  maybe_flush();
  return *this;
}

JsonOut& JsonOut::scalar(std::string_view text) {
  before_value();
  put(text);
  maybe_flush();
  return *this;
}

JsonOut& JsonOut::value(std::string_view s) {
  if (plain(s)) {
    before_value();
    put('"');
    put(s);
    put('"');
    maybe_flush();
    return *this;
  }
  return scalar(nlohmann::json(std::string(s)).dump());
}

JsonOut& JsonOut::value(double d) { return scalar(nlohmann::json(d).dump()); }

JsonOut& JsonOut::signed_integer(long long n) {
  char b[24];
  const auto r = std::to_chars(b, b + sizeof b, n);
  return scalar(std::string_view(b, static_cast<size_t>(r.ptr - b)));
}

JsonOut& JsonOut::unsigned_integer(unsigned long long n) {
  char b[24];
  const auto r = std::to_chars(b, b + sizeof b, n);
  return scalar(std::string_view(b, static_cast<size_t>(r.ptr - b)));
}

JsonOut& JsonOut::value(const nlohmann::json& j) {
  // dump() lays it out from column 0; every line after the first moves in by this depth. A
  // newline inside the dump is always layout (strings carry theirs as \n).
  const std::string text = j.dump(static_cast<int>(indent_));
  before_value();
  const std::string pad(indent_ * levels_.size(), ' ');
  size_t from = 0;
  for (size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1) {
    put(std::string_view(text).substr(from, nl + 1 - from));
    put(pad);
  }
  put(std::string_view(text).substr(from));
  maybe_flush();
  return *this;
}

bool JsonOut::copy(std::istream& in) {
  const auto start = in.tellg();
  if (start == std::istream::pos_type(-1)) return false;
  const auto rewind = [&] {
    in.clear();
    in.seekg(start);
  };
  KeyOrderCheck check;
  const bool ok = nlohmann::json::sax_parse(in, &check);
  rewind();
  if (!ok) return false;
  Forward forward(*this);
  if (!nlohmann::json::sax_parse(in, &forward)) throw std::runtime_error("JSON document changed while it was copied");
  return true;
}

}  // namespace gn
