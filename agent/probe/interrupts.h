// /proc/interrupts: which IRQ serves which virtio queue.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gn {

struct IrqLine {
  unsigned irq = 0;
  std::vector<std::string> names;  // the action names at the end of the line ("virtio2-input.0")
};

// Numbered IRQ lines only (NMI, LOC, ... are left out). Works for 3.10 to 6.x layouts.
Result<std::vector<IrqLine>> parse_interrupts(std::string_view text);

// The same parser one line at a time, for a file too large to hold: /proc/interrupts of a
// 1024-CPU guest has a column per CPU on each of its thousands of lines (tens of MB).
class InterruptsLines {
 public:
  // The next line (without its '\n'): the IRQ line when it is a numbered one, nullopt for the
  // header, a blank line or a named one (NMI, LOC, ...); an error names the line.
  Result<std::optional<IrqLine>> next(std::string_view line);
  // After the last line: an error when there was none.
  Result<void> finish() const;

 private:
  unsigned line_no_ = 0;
};

enum class VirtioIrqKind {
  Input,       // virtioN-input.Q: receive queue Q
  Output,      // virtioN-output.Q: transmit queue Q
  Shared,      // virtioN-virtqueues: one vector for every queue
  Legacy,      // virtioN: INTx, everything on one line
  Config,      // virtioN-config
  Other,       // another virtqueue name (virtioN-control, virtioN-req.0, ...)
};

struct VirtioIrqName {
  std::string device;  // "virtio2"
  VirtioIrqKind kind = VirtioIrqKind::Other;
  int queue = -1;      // for Input and Output
};

// "virtio2-input.0" → {virtio2, Input, 0}; nullopt when the name is not a virtio one.
std::optional<VirtioIrqName> parse_virtio_irq_name(std::string_view name);

}  // namespace gn
