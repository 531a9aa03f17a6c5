#include "interrupts.h"

#include <cctype>
#include <charconv>

#include "catalogue.h"
#include "cpuset.h"

namespace gn {

namespace {
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}
// The blanks that separate words (what istream's >> skips).
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
}  // namespace

Result<std::optional<IrqLine>> InterruptsLines::next(std::string_view line) {
  ++line_no_;
  if (line_no_ == 1) {
    if (trim(line).rfind("CPU", 0) != 0) return make_error("", "line 1 is not the CPU header: '" + std::string(line) + "'");
    return std::optional<IrqLine>();
  }
  const std::string_view t = trim(line);
  if (t.empty()) return std::optional<IrqLine>();
  const size_t colon = t.find(':');
  if (colon == std::string_view::npos)
    return make_error("", "line " + std::to_string(line_no_) + " has no ':': '" + std::string(t) + "'");
  const std::string_view label = trim(t.substr(0, colon));
  if (!all_digits(label)) return std::optional<IrqLine>();  // NMI, LOC, ERR, MIS, ...
  IrqLine l;
  if (std::from_chars(label.data(), label.data() + label.size(), l.irq).ec != std::errc())
    return make_error("", "line " + std::to_string(line_no_) + ": IRQ number " + std::string(label) + " is out of range");
  // The words after the colon: per-CPU counts first, then the chip, hardware IRQ and actions.
  const std::string_view rest = t.substr(colon + 1);
  size_t pos = 0;
  bool counts = true;
  while (pos < rest.size()) {
    while (pos < rest.size() && is_blank(rest[pos])) ++pos;
    size_t end = pos;
    while (end < rest.size() && !is_blank(rest[end])) ++end;
    std::string_view w = rest.substr(pos, end - pos);
    pos = end;
    if (w.empty()) break;
    if (counts && all_digits(w)) continue;
    counts = false;
    while (!w.empty() && w.back() == ',') w.remove_suffix(1);
    if (!w.empty()) l.names.emplace_back(w);
  }
  return std::optional<IrqLine>(std::move(l));
}

Result<void> InterruptsLines::finish() const {
  if (line_no_ == 0) return make_error("", "empty file");
  return {};
}

Result<std::vector<IrqLine>> parse_interrupts(std::string_view text) {
  std::vector<IrqLine> out;
  InterruptsLines lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto l = lines.next(line);
    if (!l) return l.error();
    if (*l) out.push_back(std::move(**l));
  }
  if (auto r = lines.finish(); !r) return r.error();
  return out;
}

std::optional<VirtioIrqName> parse_virtio_irq_name(std::string_view name) {
  if (name.rfind("virtio", 0) != 0) return std::nullopt;
  size_t i = 6;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i == 6) return std::nullopt;
  VirtioIrqName v;
  v.device = std::string(name.substr(0, i));
  if (i == name.size()) {
    v.kind = VirtioIrqKind::Legacy;
    return v;
  }
  if (name[i] != '-') return std::nullopt;
  const std::string_view rest = name.substr(i + 1);
  const auto queue_of = [&](std::string_view prefix) -> std::optional<int> {
    if (rest.rfind(prefix, 0) != 0) return std::nullopt;
    const std::string_view num = rest.substr(prefix.size());
    if (!all_digits(num)) return std::nullopt;
    int q = 0;
    if (std::from_chars(num.data(), num.data() + num.size(), q).ec != std::errc()) return std::nullopt;  // too big
    if (q > kMaxQueue) return std::nullopt;  // past virtio-net's last queue: not one of its queues
    return q;
  };
  if (auto q = queue_of("input.")) {
    v.kind = VirtioIrqKind::Input;
    v.queue = *q;
  } else if (auto q2 = queue_of("output.")) {
    v.kind = VirtioIrqKind::Output;
    v.queue = *q2;
  } else if (rest == "virtqueues") {
    v.kind = VirtioIrqKind::Shared;
  } else if (rest == "config") {
    v.kind = VirtioIrqKind::Config;
  } else {
    v.kind = VirtioIrqKind::Other;
  }
  return v;
}

}  // namespace gn
