// The one place where text is made safe to show. On the host everything a guest sends is hostile
// (docs: DESIGN.md, trust boundary): before any of it reaches the operator's terminal, a log line
// or a metric label it goes through neutralise(), and JSON goes out only through
// dump_for_people(). In the guest the agent holds the kernel's interface names to the same test:
// a name that neutralise() would change is left alone and shown neutralised (probe.cpp).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gn {

// Printable, unambiguous text: valid UTF-8 without control characters, every byte of the input
// recoverable from the output.
//   '\'                          -> "\\"
//   C0 controls, DEL             -> "\x1b", "\x0a", "\x7f" ... (also tab and newline)
//   an invalid UTF-8 byte        -> "\x9b", "\xff" ... (one escape per byte; this is how a raw
//                                   8-bit CSI 0x9b shows)
//   C1 controls U+0080..U+009F   -> "\u009b" ... (the UTF-8 encoding of the 8-bit CSI)
//   bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069), line and paragraph
//   separators (U+2028, U+2029), BOM (U+FEFF)
//                                -> "\u202e" ... (they reorder or break what follows)
// Everything else passes unchanged. With max_bytes, input beyond that many bytes is dropped
// and the output says how much: "...[123 more bytes]".
std::string neutralise(std::string_view text);
std::string neutralise(std::string_view text, size_t max_bytes);

// JSON for a terminal: every non-ASCII character and control character as a \u escape (so no
// byte of the output is a control byte or a UTF-8 sequence a terminal could act on), and any
// invalid UTF-8 in a string replaced by U+FFFD instead of throwing.
std::string dump_for_people(const nlohmann::json& value, int indent = 2);

}  // namespace gn
