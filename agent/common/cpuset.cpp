#include "cpuset.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gn {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

CpuSet CpuSet::of(std::initializer_list<unsigned> cpus) {
  CpuSet s;
  for (unsigned c : cpus) s.add(c);
  return s;
}

CpuSet CpuSet::from_words(std::vector<uint32_t> words) {
  CpuSet s;
  s.words_ = std::move(words);
  s.trim();
  return s;
}

CpuSet CpuSet::range(unsigned first, unsigned last) {
  CpuSet s;
  for (unsigned c = first; c <= last; ++c) s.add(c);
  return s;
}

void CpuSet::add(unsigned cpu) {
  const unsigned w = cpu / 32;
  if (words_.size() <= w) words_.resize(w + 1, 0);
  words_[w] |= 1u << (cpu % 32);
}

void CpuSet::remove(unsigned cpu) {
  const unsigned w = cpu / 32;
  if (w >= words_.size()) return;
  words_[w] &= ~(1u << (cpu % 32));
  trim();
}

bool CpuSet::has(unsigned cpu) const {
  const unsigned w = cpu / 32;
  return w < words_.size() && ((words_[w] >> (cpu % 32)) & 1u) != 0;
}

bool CpuSet::empty() const { return words_.empty(); }

namespace {
// Bits set in a word, by adding neighbouring bit counts (the agent is built for generic x86-64,
// where the compiler's popcount is a library call).
unsigned popcount(uint32_t v) {
  v = v - ((v >> 1) & 0x55555555u);
  v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
  v = (v + (v >> 4)) & 0x0f0f0f0fu;
  return (v * 0x01010101u) >> 24;
}
}  // namespace

unsigned CpuSet::count() const {
  unsigned n = 0;
  for (uint32_t w : words_) n += popcount(w);
  return n;
}

unsigned CpuSet::end() const {
  if (words_.empty()) return 0;
  const uint32_t top = words_.back();
  unsigned bit = 31;
  while (((top >> bit) & 1u) == 0) --bit;
  return static_cast<unsigned>((words_.size() - 1) * 32 + bit + 1);
}

unsigned CpuSet::first() const {
  for (size_t w = 0; w < words_.size(); ++w)
    if (words_[w] != 0) return static_cast<unsigned>(w * 32) + static_cast<unsigned>(__builtin_ctz(words_[w]));
  return 0;
}

std::vector<unsigned> CpuSet::cpus() const {
  std::vector<unsigned> out;
  out.reserve(count());
  for (size_t w = 0; w < words_.size(); ++w)
    for (uint32_t bits = words_[w]; bits != 0; bits &= bits - 1)
      out.push_back(static_cast<unsigned>(w * 32) + static_cast<unsigned>(__builtin_ctz(bits)));
  return out;
}

void CpuSet::trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

CpuSet CpuSet::operator|(const CpuSet& o) const {
  CpuSet r = words_.size() >= o.words_.size() ? *this : o;
  const CpuSet& s = words_.size() >= o.words_.size() ? o : *this;
  for (size_t i = 0; i < s.words_.size(); ++i) r.words_[i] |= s.words_[i];
  return r;
}

CpuSet CpuSet::operator&(const CpuSet& o) const {
  CpuSet r;
  r.words_.resize(std::min(words_.size(), o.words_.size()));
  for (size_t i = 0; i < r.words_.size(); ++i) r.words_[i] = words_[i] & o.words_[i];
  r.trim();
  return r;
}

CpuSet CpuSet::operator-(const CpuSet& o) const {
  CpuSet r = *this;
  for (size_t i = 0; i < r.words_.size() && i < o.words_.size(); ++i) r.words_[i] &= ~o.words_[i];
  r.trim();
  return r;
}

CpuSet& CpuSet::operator|=(const CpuSet& o) {
  if (words_.size() < o.words_.size()) words_.resize(o.words_.size(), 0);
  for (size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
  return *this;
}

CpuSet& CpuSet::operator&=(const CpuSet& o) {
  if (words_.size() > o.words_.size()) words_.resize(o.words_.size());
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
  trim();
  return *this;
}

CpuSet& CpuSet::operator-=(const CpuSet& o) {
  for (size_t i = 0; i < words_.size() && i < o.words_.size(); ++i) words_[i] &= ~o.words_[i];
  trim();
  return *this;
}

bool CpuSet::intersects(const CpuSet& o) const {
  for (size_t i = 0; i < words_.size() && i < o.words_.size(); ++i)
    if ((words_[i] & o.words_[i]) != 0) return true;
  return false;
}

bool CpuSet::subset_of(const CpuSet& o) const {
  for (size_t i = 0; i < words_.size(); ++i)
    if ((words_[i] & ~(i < o.words_.size() ? o.words_[i] : 0u)) != 0) return false;
  return true;
}

bool CpuSet::operator==(const CpuSet& o) const { return words_ == o.words_; }

std::string mask_for_people(std::string_view text) {
  auto m = parse_cpumask(text);
  if (!m) return std::string(text);
  return m->empty() ? "none" : format_cpulist(*m);
}

namespace {
// The value of a hex digit as std::from_chars reads one in base 16 (either case), or -1.
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<CpuSet> parse_cpumask(std::string_view text) {
  text = trim(text);
  if (text.empty()) return make_error("", "empty CPU mask");
  // Groups are read left to right (the first malformed one names the error), most significant
  // first: the last group is word 0.
  size_t groups = 1;
  for (char c : text) groups += c == ',';
  std::vector<uint32_t> words(groups, 0);
  size_t pos = 0;
  for (size_t g = groups; g-- > 0;) {
    size_t end = pos;
    while (end < text.size() && text[end] != ',') ++end;
    if (end == pos || end - pos > 8)
      return make_error("", "malformed CPU mask '" + std::string(text) + "': groups are 1-8 hex digits");
    uint32_t v = 0;
    for (size_t i = pos; i < end; ++i) {
      const int d = hex_digit(text[i]);
      if (d < 0) return make_error("", "malformed CPU mask '" + std::string(text) + "': not hexadecimal");
      v = (v << 4) | static_cast<uint32_t>(d);
    }
    words[g] = v;
    pos = end + 1;
  }
  return CpuSet::from_words(std::move(words));
}

bool cpumask_is(std::string_view text, const CpuSet& set) {
  text = trim(text);
  if (text.empty()) return false;
  const auto& w = set.words();
  size_t word = 0;  // the group being read, counted from the right
  size_t end = text.size();
  // The set's low words that are zero against the text's last groups in one comparison, when
  // they are the kernel's ",00000000" each: a wide mask with CPUs only high up (most XPS and IRQ
  // masks of a wide guest) is then not read a group at a time. Anything else is read below,
  // and reads the same there.
  static constexpr size_t kSkipMax = 256;  // 8192 CPUs
  static const std::string zero_groups = [] {
    std::string z;
    for (size_t i = 0; i < kSkipMax; ++i) z += ",00000000";
    return z;
  }();
  size_t low_zero = 0;
  while (low_zero < w.size() && w[low_zero] == 0) ++low_zero;
  const size_t skip = std::min({low_zero, kSkipMax, text.size() / 9});
  if (skip > 0 && text.compare(text.size() - 9 * skip, 9 * skip, zero_groups, 0, 9 * skip) == 0) {
    word = skip;
    end = text.size() - 9 * skip;  // the comma before the skipped groups
  }
  while (true) {
    uint32_t v = 0;
    unsigned digits = 0;
    size_t i = end;
    // Most groups of a wide mask are "00000000": eight digits compared at once (a ninth one
    // before them still fails below).
    static constexpr char kZeroGroup[8] = {'0', '0', '0', '0', '0', '0', '0', '0'};
    if (end >= 8 && std::memcmp(text.data() + end - 8, kZeroGroup, 8) == 0) {
      i = end - 8;
      digits = 8;
    }
    for (; i > 0 && text[i - 1] != ','; --i) {
      const int d = hex_digit(text[i - 1]);
      if (d < 0 || digits == 8) return false;
      v |= static_cast<uint32_t>(d) << (4 * digits++);
    }
    if (digits == 0 || v != (word < w.size() ? w[word] : 0u)) return false;
    ++word;
    if (i == 0) break;
    end = i - 1;  // before the comma
  }
  return w.size() <= word;  // a CPU beyond the text's groups is not in the text
}

namespace {
// Writes v's `width` low hex digits at p; returns the end.
char* put_hex_group(char* p, uint32_t v, unsigned width) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = width; i-- > 0;) *p++ = digits[(v >> (4 * i)) & 0xfu];
  return p;
}

std::string format_groups(const CpuSet& set, size_t ngroups, unsigned first_width) {
  // Sized once and filled in place (a mask of 1024 CPUs is 288 characters, and a plan's JSON
  // prints 40k of them).
  std::string out(first_width + (ngroups - 1) * 9, '\0');
  char* p = out.data();
  const auto& w = set.words();
  for (size_t i = ngroups; i-- > 0;) {
    const uint32_t v = i < w.size() ? w[i] : 0;
    if (i + 1 != ngroups) *p++ = ',';
    p = put_hex_group(p, v, i + 1 == ngroups ? first_width : 8);
  }
  return out;
}
}  // namespace

std::string format_cpumask(const CpuSet& set, unsigned nr_cpu_ids) {
  const unsigned n = std::max(nr_cpu_ids, 1u);
  const size_t groups = (n + 31) / 32;
  const unsigned top_bits = n - static_cast<unsigned>(groups - 1) * 32;
  return format_groups(set, groups, (top_bits + 3) / 4);
}

Result<std::string> format_cpumask_like(const CpuSet& set, std::string_view like) {
  like = trim(like);
  const size_t groups = static_cast<size_t>(std::count(like.begin(), like.end(), ',')) + 1;
  const size_t comma = like.find(',');
  const unsigned width = static_cast<unsigned>(comma == std::string_view::npos ? like.size() : comma);
  if (like.empty() || width == 0 || width > 8)
    return make_error("", "cannot take the mask layout from '" + std::string(like) + "'");
  if (set.end() > (groups - 1) * 32 + size_t{width} * 4)
    return make_error("", "CPU " + std::to_string(set.end() - 1) + " does not fit in a mask of " +
                              std::to_string(groups) + " group(s) like '" + std::string(like) + "'");
  return format_groups(set, groups, width);
}

namespace {
bool parse_uint(std::string_view s, unsigned& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

Result<CpuSet> parse_cpulist(std::string_view text) {
  text = trim(text);
  CpuSet s;
  if (text.empty() || text == "(null)") return s;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    const auto bad = [&] {
      return make_error("", "malformed CPU list '" + std::string(text) + "' at '" + std::string(item) + "'");
    };
    unsigned stride = 1;
    if (const size_t colon = item.find(':'); colon != std::string_view::npos) {
      if (!parse_uint(item.substr(colon + 1), stride) || stride == 0) return bad();
      item = item.substr(0, colon);
    }
    unsigned a = 0, b = 0;
    if (const size_t dash = item.find('-'); dash != std::string_view::npos) {
      if (!parse_uint(item.substr(0, dash), a) || !parse_uint(item.substr(dash + 1), b) || b < a)
        return bad();
    } else {
      if (!parse_uint(item, a)) return bad();
      b = a;
    }
    if (b >= (1u << 20)) return bad();
    for (unsigned c = a; c <= b; c += stride) s.add(c);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return s;
}

std::string format_cpulist(const CpuSet& set) {
  std::string out;
  const auto cpus = set.cpus();
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace gn
