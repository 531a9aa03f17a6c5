// libFuzzer: the kernel release (/proc/sys/kernel/osrelease, or a snapshot's). A release that
// parses keeps its text, and every probe outcome classifies it into a behaviour with a name.
// fuzz-links: gn_common
// fuzz-sources: agent/probe/kernel_release.cpp
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cpuset.h"
#include "kernel_release.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto k = parse_kernel_release(in);
  if (!k) return 0;
  require(k->text == trim(in));
  require(k->text.rfind(std::to_string(k->major) + ".", 0) == 0 || k->text.front() == '0');
  for (auto probe : {XpsRxqsProbe::Present, XpsRxqsProbe::Absent, XpsRxqsProbe::Unknown}) {
    const auto v = classify_driver(*k, probe);
    require(!v.evidence.empty());
    const auto named = driver_behaviour_from_string(to_string(v.behaviour));
    require(named && *named == v.behaviour);
  }
  return 0;
}
