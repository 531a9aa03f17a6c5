// libFuzzer: /proc/net/softnet_stat. A parsed table has one row per non-blank line, one column
// count in {10 or more}, and a cpu column only when the kernel prints one (13+ columns).
// fuzz-links: gn_common
// fuzz-sources: agent/probe/softnet.cpp
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "cpuset.h"
#include "softnet.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto s = parse_softnet_stat(text);
  if (!s) return 0;
  std::istringstream lines(text);
  std::string line;
  size_t nonblank = 0;
  while (std::getline(lines, line))
    if (!trim(line).empty()) ++nonblank;
  require(s->rows.size() == nonblank);
  require(nonblank == 0 || s->columns >= 10);
  for (const auto& r : s->rows) {
    require(r.flow_limit.has_value() == (s->columns >= 11));
    require(r.cpu.has_value() == (s->columns >= 13));
    // A CPU number the rest of the agent can use as one (cpu sets stop at 2^20).
    if (r.cpu) require(*r.cpu < (1u << 20));
  }
  return 0;
}
