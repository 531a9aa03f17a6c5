// libFuzzer: /proc/interrupts as any kernel (or a corrupted snapshot) prints it. Parsed lines
// carry a number and action names without blanks; virtio names parse back to what they say.
// fuzz-links: gn_common
// fuzz-sources: agent/probe/interrupts.cpp
#include <cstdint>
#include <cstdlib>
#include <string>

#include "interrupts.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}

// The decimal digits after `prefix` in `name`, leading zeros dropped ("" when not that form).
std::string digits_after(std::string_view name, std::string_view prefix) {
  const auto at = name.find(prefix);
  if (at == std::string_view::npos) return "";
  std::string d(name.substr(at + prefix.size()));
  while (d.size() > 1 && d.front() == '0') d.erase(0, 1);
  return d;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto lines = parse_interrupts(in)) {
    for (const auto& l : *lines) {
      for (const auto& name : l.names) {
        require(!name.empty());
        require(name.find_first_of(" \t\n") == std::string::npos);
        require(in.find(name) != std::string_view::npos);
      }
    }
  }
  // Each whitespace-separated word as an IRQ action name.
  size_t pos = 0;
  while (pos < in.size()) {
    size_t end = in.find_first_of(" \t\n", pos);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view name = in.substr(pos, end - pos);
    pos = end + 1;
    const auto v = parse_virtio_irq_name(name);
    if (!v) continue;
    require(name.rfind(v->device, 0) == 0);
    if (v->kind == VirtioIrqKind::Input) {
      require(v->queue >= 0 && digits_after(name, "-input.") == std::to_string(v->queue));
    } else if (v->kind == VirtioIrqKind::Output) {
      require(v->queue >= 0 && digits_after(name, "-output.") == std::to_string(v->queue));
    } else {
      require(v->queue == -1);
    }
  }
  return 0;
}
