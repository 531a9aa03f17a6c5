// CpuSet: a set of CPU numbers of any size, with the kernel's two text forms:
// hex masks ("00000000,0000000f": 32-bit groups, most significant first) and lists ("0-3,8").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gn {

class CpuSet {
 public:
  CpuSet() = default;
  static CpuSet of(std::initializer_list<unsigned> cpus);
  static CpuSet range(unsigned first, unsigned last);  // inclusive
  // Bit i of word w is CPU 32*w+i.
  static CpuSet from_words(std::vector<uint32_t> words);

  void add(unsigned cpu);
  void remove(unsigned cpu);
  bool has(unsigned cpu) const;
  bool empty() const;
  unsigned count() const;
  // One past the highest CPU in the set (0 when empty).
  unsigned end() const;
  // The lowest CPU in the set, which must not be empty.
  unsigned first() const;
  std::vector<unsigned> cpus() const;

  CpuSet operator|(const CpuSet& o) const;
  CpuSet operator&(const CpuSet& o) const;
  CpuSet operator-(const CpuSet& o) const;  // set difference
  // In place, without a new set: the planner combines sets in its loops.
  CpuSet& operator|=(const CpuSet& o);
  CpuSet& operator&=(const CpuSet& o);
  CpuSet& operator-=(const CpuSet& o);
  // Whether the two sets share a CPU, without building their intersection.
  bool intersects(const CpuSet& o) const;
  // Whether every CPU of this set is in `o`.
  bool subset_of(const CpuSet& o) const;
  bool operator==(const CpuSet& o) const;
  bool operator!=(const CpuSet& o) const { return !(*this == o); }

  const std::vector<uint32_t>& words() const { return words_; }

 private:
  void trim();
  std::vector<uint32_t> words_;  // bit i of word w is CPU 32*w+i; no trailing zero words
};

// Parses a hex mask as sysfs and /proc/irq print it. Accepts any number of groups.
Result<CpuSet> parse_cpumask(std::string_view text);
// Whether `text` parses as a mask (as parse_cpumask takes it) and that mask is `set`, without
// building a set: the groups are read right to left against the set's words. Text that does not
// parse holds no set.
bool cpumask_is(std::string_view text, const CpuSet& set);
// Formats a mask as the kernel prints one for nr_cpu_ids CPUs: ceil(n/32) groups, the first
// one as wide as its bits need, the rest 8 digits. CPUs >= nr_cpu_ids are not representable
// and must not be in the set.
std::string format_cpumask(const CpuSet& set, unsigned nr_cpu_ids);
// Formats a mask with exactly the group count and first-group width of `like` (text read from
// the file that will be written): since 5.15 the kernel refuses extra groups with EOVERFLOW.
Result<std::string> format_cpumask_like(const CpuSet& set, std::string_view like);

// Parses a CPU list ("0-3,8-11", "5", "" for none; "0-7:2" strides as in isolcpus).
Result<CpuSet> parse_cpulist(std::string_view text);
// Formats as ranges: "0-15,32-47"; "" for the empty set.
std::string format_cpulist(const CpuSet& set);

// A mask as a person reads it: "0-2,18-19", or "none"; text that is not a mask comes back as is.
std::string mask_for_people(std::string_view text);

// Trims ASCII whitespace from both ends (kernel files end in '\n').
std::string_view trim(std::string_view s);

}  // namespace gn
