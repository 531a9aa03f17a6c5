// Plan: a pure function of Facts and Policy. Same input, same plan, byte for byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "catalogue.h"
#include "cpuset.h"
#include "facts.h"
#include "policy.h"
#include "shared_text.h"

namespace gn {

enum class Action : unsigned char {
  Write,  // differs from the wanted value: apply writes it
  Keep,   // already holds the wanted value
  Skip,   // not applicable or left alone; `reason` says why
};
const char* to_string(Action a);

// A text kept in TextBlocks, seen through one pointer: its length, then its characters. A plan
// holds a reason for every setting, and a view would take twice the room.
class KeptText {
 public:
  KeptText() = default;  // ""
  std::string_view view() const {
    if (!at_) return {};
    uint32_t n;
    std::memcpy(&n, at_, sizeof n);
    return {at_ + sizeof n, n};
  }
  operator std::string_view() const { return view(); }  // NOLINT: read wherever a view is
  friend std::ostream& operator<<(std::ostream& out, const KeptText& t) { return out << t.view(); }

 private:
  friend class TextBlocks;
  explicit KeptText(const char* at) : at_(at) {}
  const char* at_ = nullptr;
};

// One planned setting: its target (kind, NIC, queue, IRQ, sysctl: see catalogue.h), the value
// it has now and the one it should have, typed until apply writes it.
struct Setting : Target {
  Setting() = default;
  Setting(Target t, SharedText now, Value want, Action a, KeptText why)
      : Target(std::move(t)), action(a), current(std::move(now)), desired(std::move(want)), reason(why) {}
  Action action = Action::Skip;  // first: it takes the byte after Target's kind (the size is asserted in plan.cpp)
  // As read ("" when absent): the text of the Facts the plan was made from, shared (or, for a
  // text the planner made, such as channel counts, its own): a plan of a 1024-CPU guest would
  // otherwise copy 20k masks of 288 characters, and apply journals it as the original.
  SharedText current;
  Value desired;        // none for a Skip without a value
  KeptText reason;  // a text of the plan's own (Plan::own_texts), often shared by many settings
};

// What the plan says of a NIC as a whole (tuned, left alone, upper device and why).
struct NicSummary {
  std::string name;
  std::string role;    // tunable / upper / other
  std::string driver;
  std::string detail;  // why, in words
  unsigned queues_current = 0;
  unsigned queues_planned = 0;
  unsigned queues_max = 0;
};

// Texts laid end to end in blocks that never move, each kept once and viewed after: a plan of a
// wide guest keeps a reason for every IRQ of every NIC, and a string of its own for each cost
// half as much again as its characters.
class TextBlocks {
 public:
  // `text` as kept here: valid as long as these blocks, wherever they move.
  KeptText keep(std::string_view text) { return keep({text}); }
  // The parts laid end to end as one text, without making it first.
  KeptText keep(std::initializer_list<std::string_view> parts);

 private:
  static constexpr size_t kBlockBytes = 16384;
  // Each made at its size and never moved: a text stays where it was laid, whatever the plan
  // does with its blocks.
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, size_ = 0;  // of the last block
};

struct Plan {
  std::vector<NicSummary> nics;
  std::vector<Setting> settings;  // in apply order: per NIC channels, RPS/RFS, XPS, IRQs; then sysctls
  std::vector<std::string> notes;
  // The reasons the settings show (a current text the planner makes, such as channel counts, is a
  // SharedText of its own).
  TextBlocks own_texts;

  Plan() = default;
  Plan(Plan&&) = default;
  Plan& operator=(Plan&&) = default;
  // A copy's settings would view the original's own texts.
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  unsigned count(Action a) const;
};

// Contiguous CPU blocks for nq transmit queues, as the >= 4.19 driver stripes them (ncpu/nq
// each, the first ncpu%nq one more), over CPUs ordered by NUMA node then SMT core, with NUMA
// nodes given whole queues in proportion to their CPUs when there are enough queues; when
// there are more queues than CPUs, queue q gets the (q mod ncpu)-th CPU.
std::vector<CpuSet> stripe_cpus(const CpuFacts& cpus, const CpuSet& usable, unsigned nq);

// The NICs a policy selects: named ones (upper devices replaced by their lower devices,
// recursively), or every tunable NIC; excluded ones removed. Sorted, unique.
std::vector<std::string> selected_nics(const Facts& facts, const Policy& policy);

// The plan keeps nothing of `facts` by reference: the texts it shows as current are shared copies.
Plan make_plan(const Facts& facts, const Policy& policy);

}  // namespace gn
