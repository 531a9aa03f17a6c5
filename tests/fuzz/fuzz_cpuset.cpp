// libFuzzer: CPU masks and lists as sysfs, /proc/irq and the kernel command line give them.
// Whatever parses must format and parse back to the same set, in every layout it can take.
// fuzz-links: gn_common
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cpuset.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto m = parse_cpumask(in)) {
    const CpuSet& s = *m;
    // The kernel's own layout for a mask as wide as the set needs.
    const auto back = parse_cpumask(format_cpumask(s, s.end()));
    require(back && *back == s);
    // The layout of the text that was read (what apply writes back into the same file).
    if (auto like = format_cpumask_like(s, in)) {
      const auto again = parse_cpumask(*like);
      require(again && *again == s);
      // Same group count and first-group width (later groups are always 8 digits when written).
      const std::string_view t = trim(in);
      require(std::count(like->begin(), like->end(), ',') == std::count(t.begin(), t.end(), ','));
      require(like->find(',') == t.find(','));
    }
    // As a list, and as people read it.
    const auto list = parse_cpulist(format_cpulist(s));
    require(list && *list == s);
    require(mask_for_people(std::string(in)) == (s.empty() ? "none" : format_cpulist(s)));
  }

  if (auto l = parse_cpulist(in)) {
    const CpuSet& s = *l;
    const std::string text = format_cpulist(s);
    const auto back = parse_cpulist(text);
    require(back && *back == s);
    require(format_cpulist(*back) == text);
    const auto mask = parse_cpumask(format_cpumask(s, s.end()));
    require(mask && *mask == s);
    // Set algebra agrees with membership.
    const CpuSet odd = s - CpuSet::range(0, 0);
    require((odd | (s & CpuSet::of({0}))) == s);
    require(s.count() == s.cpus().size());
    require(s.empty() == (s.count() == 0));
  }
  return 0;
}
