#include "interrupts.h"

#include <cctype>
#include <charconv>
#include <sstream>

#include "cpuset.h"

namespace gn {

namespace {
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}
}  // namespace

Result<std::vector<IrqLine>> parse_interrupts(std::string_view text) {
  std::vector<IrqLine> out;
  size_t pos = 0;
  bool header = true;
  unsigned line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (header) {
      header = false;
      if (trim(line).rfind("CPU", 0) != 0)
        return make_error("", "line 1 is not the CPU header: '" + std::string(line) + "'");
      continue;
    }
    const std::string_view t = trim(line);
    if (t.empty()) continue;
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos)
      return make_error("", "line " + std::to_string(line_no) + " has no ':': '" + std::string(t) + "'");
    const std::string_view label = trim(t.substr(0, colon));
    if (!all_digits(label)) continue;  // NMI, LOC, ERR, MIS, ...
    IrqLine l;
    if (std::from_chars(label.data(), label.data() + label.size(), l.irq).ec != std::errc())
      return make_error("", "line " + std::to_string(line_no) + ": IRQ number " + std::string(label) + " is out of range");
    std::istringstream words{std::string(t.substr(colon + 1))};
    std::string w;
    bool counts = true;
    while (words >> w) {
      if (counts && all_digits(w)) continue;  // per-CPU counts
      counts = false;
      while (!w.empty() && w.back() == ',') w.pop_back();
      if (!w.empty()) l.names.push_back(w);
    }
    out.push_back(std::move(l));
  }
  if (header) return make_error("", "empty file");
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
