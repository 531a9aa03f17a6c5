// The catalogue: what each kind of setting is, and each sysctl the profiles touch, declared
// once. The planner, apply, the journal, revert, status, the renderers and the host tool all
// read it. A kind is one enumerator plus one row of kKinds; a sysctl is one row of kSysctls.
// A kind without its row, or a switch over SettingKind without a case, does not compile.
// Why each row says what it says: docs/kernel-notes.md.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "channels.h"
#include "cpuset.h"
#include "result.h"
#include "shared.h"
#include "shared_text.h"

namespace gn {

// What a setting changes. The order is the order of kKinds.
enum class SettingKind : unsigned char { Channels, RpsCpus, RpsFlowCnt, Xps, XpsRxqs, IrqAffinity, Sysctl };
inline constexpr size_t kKindCount = 7;

enum class Profile { Observe, Balanced, Throughput, Latency };
const char* to_string(Profile p);
std::optional<Profile> profile_from_string(std::string_view s);
constexpr unsigned profile_bit(Profile p) { return 1u << static_cast<unsigned>(p); }
// The profiles that tune queues (observe shows what balanced would do).
inline constexpr unsigned kTuningProfiles =
    profile_bit(Profile::Observe) | profile_bit(Profile::Balanced) | profile_bit(Profile::Throughput) |
    profile_bit(Profile::Latency);

// The type of a kind's value, which decides its one text form.
enum class ValueType : unsigned char {
  CpuMask,    // the kernel's hex mask of CPUs ("00000000,0000000f")
  QueueMask,  // the same hex form over the NIC's rx queues (xps_rxqs)
  Number,     // a decimal integer
  Channels,   // "combined 4" or "rx 4 tx 4", as ethtool -L takes them
};

// Where a kind's target lives.
enum class Place {
  Ethtool,  // the channel counts, through the ethtool ioctl
  RxQueue,  // a file in sys/class/net/NIC/queues/rx-N/
  TxQueue,  // a file in sys/class/net/NIC/queues/tx-N/
  Irq,      // a file in proc/irq/N/
  Sysctl,   // proc/sys/net/core/NAME, one row of kSysctls
};

// What the kernel keeps after a write, beside exactly what was written.
enum class Kept {
  Same,        // exactly the value written
  OnlineCpus,  // a CPU mask without the CPUs that are offline
  PowerOfTwo,  // a count rounded up to a power of two (rps_flow_cnt, rps_sock_flow_entries)
  PerSysctl,   // as the sysctl's row says
};

struct KindRow {
  SettingKind kind;
  const char* name;     // in JSON (docs/status-schema.json) and the journal: "xps_cpus"
  const char* label;    // for people, in tables: "xps"
  ValueType type;
  Place place;
  const char* file;     // the file's name in its queue or IRQ directory ("" elsewhere)
  Kept kept;
  bool channels_reset;  // a channel change rewrites or removes it: its original is journalled first
  int revert_rank;      // revert restores lower ranks first (channels before the queues they make)
  unsigned profiles;    // the profiles that plan it
};

inline constexpr KindRow kKinds[] = {
    {SettingKind::Channels, "channels", "channels", ValueType::Channels, Place::Ethtool, "", Kept::Same, false, 0,
     kTuningProfiles},
    {SettingKind::RpsCpus, "rps_cpus", "rps", ValueType::CpuMask, Place::RxQueue, "rps_cpus", Kept::OnlineCpus, true, 1,
     kTuningProfiles},
    {SettingKind::RpsFlowCnt, "rps_flow_cnt", "flows", ValueType::Number, Place::RxQueue, "rps_flow_cnt",
     Kept::PowerOfTwo, true, 1, kTuningProfiles},
    {SettingKind::Xps, "xps_cpus", "xps", ValueType::CpuMask, Place::TxQueue, "xps_cpus", Kept::OnlineCpus, true, 2,
     kTuningProfiles},
    // The tx queue follows its rx queue (4.18+ and backports): latency keeps a flow on one queue pair.
    {SettingKind::XpsRxqs, "xps_rxqs", "rxqs", ValueType::QueueMask, Place::TxQueue, "xps_rxqs", Kept::Same, true,
     2, profile_bit(Profile::Latency)},
    {SettingKind::IrqAffinity, "irq_affinity", "irq", ValueType::CpuMask, Place::Irq, "smp_affinity", Kept::OnlineCpus,
     true, 3, kTuningProfiles},
    {SettingKind::Sysctl, "sysctl", "", ValueType::Number, Place::Sysctl, "", Kept::PerSysctl, false, 4, 0},
};

constexpr const KindRow& row(SettingKind k) { return kKinds[static_cast<size_t>(k)]; }

namespace detail {
constexpr bool kinds_in_order() {
  for (size_t i = 0; i < sizeof kKinds / sizeof kKinds[0]; ++i)
    if (static_cast<size_t>(kKinds[i].kind) != i) return false;
  return true;
}
}  // namespace detail
static_assert(sizeof kKinds / sizeof kKinds[0] == kKindCount, "one row per SettingKind");
static_assert(detail::kinds_in_order(), "kKinds in the order of SettingKind");

// A value a profile gives a sysctl; a floor keeps a higher value the kernel already has.
struct ProfileValue {
  long long value;
  bool at_least;
};

struct SysctlRow {
  const char* name;    // under net.core: "netdev_budget"
  const char* option;  // the option and config key that sets it ("" when set otherwise)
  long long min, max;  // what the kernel accepts
  Kept kept;           // Same or PowerOfTwo
  std::optional<ProfileValue> throughput, latency;
};

// Sorted by name. The throughput values are the source methodology's for 0.5-2 Mpps, as floors
// (6.x refuses netdev_budget_usecs below two jiffies, 8000 at HZ=250).
inline constexpr SysctlRow kSysctls[] = {
    {"busy_poll", "busy-poll", 0, INT_MAX, Kept::Same, std::nullopt, ProfileValue{50, false}},
    {"busy_read", "busy-read", 0, INT_MAX, Kept::Same, std::nullopt, ProfileValue{50, false}},
    {"dev_weight", "dev-weight", 1, INT_MAX, Kept::Same, ProfileValue{6000, true}, std::nullopt},
    {"netdev_budget", "netdev-budget", 1, INT_MAX, Kept::Same, ProfileValue{50000, true}, std::nullopt},
    {"netdev_budget_usecs", "netdev-budget-usecs", 1, INT_MAX, Kept::Same, ProfileValue{5000, true}, std::nullopt},
    {"netdev_max_backlog", "netdev-max-backlog", 1, INT_MAX, Kept::Same, ProfileValue{100000, true}, std::nullopt},
    // Set through --rps-flow-entries when RPS is on (RFS's global flow table).
    {"rps_sock_flow_entries", "", 1, 1LL << 29, Kept::PowerOfTwo, std::nullopt, std::nullopt},
};
inline constexpr size_t kSysctlCount = sizeof kSysctls / sizeof kSysctls[0];

namespace detail {
constexpr bool less(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return static_cast<unsigned char>(*a) < static_cast<unsigned char>(*b);
}
constexpr bool sysctls_sorted() {
  for (size_t i = 1; i < kSysctlCount; ++i)
    if (!less(kSysctls[i - 1].name, kSysctls[i].name)) return false;
  return true;
}
}  // namespace detail
static_assert(detail::sysctls_sorted(), "kSysctls sorted by name, without duplicates");

// The row of "netdev_budget" or "net.core.netdev_budget"; nullptr when there is none.
const SysctlRow* find_sysctl_row(std::string_view name);
// The profile's value for a sysctl, if it sets one (observe and balanced set none).
std::optional<ProfileValue> profile_value(const SysctlRow& r, Profile p);
// "net.core.netdev_budget".
std::string sysctl_full_name(const SysctlRow& r);

const char* to_string(SettingKind k);
std::optional<SettingKind> setting_kind_from_string(std::string_view s);
inline bool is_mask(SettingKind k) {
  return row(k).type == ValueType::CpuMask || row(k).type == ValueType::QueueMask;
}

// The highest queue a target names: virtio-net has at most 0x8000 queue pairs (the device's
// max_virtqueue_pairs is 16 bits and the spec caps it there), so queues 0-32767.
inline constexpr int kMaxQueue = 32767;

// What a setting changes: one NIC's channels, one queue's file, one IRQ's affinity or one sysctl.
struct Target {
  Target() = default;
  // `q` is -1 or a queue up to kMaxQueue; `i` an IRQ (IrqAffinity), `s` a row of kSysctls (Sysctl).
  Target(SettingKind k, SharedText n, int q, unsigned i, const SysctlRow* s);

  SharedText nic;  // "" for sysctls; the planner gives a NIC's settings one copy
 private:
  // Laid out so that a Target is 16 bytes with its last byte free: a wide guest's plan holds a
  // target for every queue file and IRQ, and a Setting puts its action in that byte. The IRQ
  // and the sysctl's row share one number, as the kind says which it is.
  uint32_t number_ = 0;  // the IRQ (IrqAffinity) or the row's place in kSysctls (Sysctl)
  int16_t queue_ = -1;
 public:
  // Given with the rest (construct a new Target to change it): the IRQ and the sysctl's row are
  // one number, read as this kind says.
  SettingKind kind = SettingKind::Sysctl;

  int queue() const { return queue_; }  // the queue (queue files; IRQs of a queue), or -1
  unsigned irq() const;                 // for IrqAffinity; 0 otherwise
  const SysctlRow* sysctl() const;      // for Sysctl; nullptr otherwise
  void set_queue(int q) {               // -1 or up to kMaxQueue
    // The probe leaves a NIC with a queue past kMaxQueue alone and the journal refuses one:
    // reaching here with one is a bug, and a target that named another queue than the one meant
    // must never be written.
    if (q < -1 || q > kMaxQueue) std::abort();
    queue_ = static_cast<int16_t>(q);
  }

  // The one name of the target: a path relative to the root ("sys/class/net/eth0/queues/tx-0/
  // xps_cpus", "proc/irq/24/smp_affinity", "proc/sys/net/core/netdev_budget") or, for channels,
  // "ethtool:eth0:channels". The journal keys its entries by it. `prefix` goes in front, in the
  // same allocation (the renderers show "/sys/...").
  std::string path(std::string_view prefix = {}) const;
  // What the kernel keeps after a write (Kept::PerSysctl resolved).
  Kept kept() const;
  // For people: "tx-0 xps", "irq 24 q0", "net.core.netdev_budget", "channels".
  std::string label() const;
};

inline Target::Target(SettingKind k, SharedText n, int q, unsigned i, const SysctlRow* s)
    : nic(std::move(n)), kind(k) {
  set_queue(q);
  if (row(k).place == Place::Irq) number_ = i;
  else if (row(k).place == Place::Sysctl && s != nullptr) number_ = static_cast<uint32_t>(s - kSysctls) + 1;
}

// A typed value: a mask (of CPUs or queues, and the width the kernel prints it at), a number,
// or channel counts. Typed until it is written; text() is its one text form. A mask's CPUs are
// shared by the copies of a value and never change: the planner gives the same mask to every
// queue of a block or NUMA node without copying it.
class Value {
 public:
  Value() noexcept {}  // none: a setting without a wanted value
  static Value mask(ValueType type, CpuSet set, unsigned bits);
  static Value mask(ValueType type, Shared<CpuSet> set, unsigned bits);
  static Value number(long long n);
  static Value channels(const Channels& c);
  // Inline: a plan copies, moves and drops a value for every queue file and IRQ.
  Value(const Value& o) noexcept { take(o); }
  Value(Value&& o) noexcept { take(std::move(o)); }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      Value copy(o);  // before clearing: o may be held through this value's own mask
      clear();
      take(std::move(copy));
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      clear();
      take(std::move(o));
    }
    return *this;
  }
  ~Value() { release(); }

  bool empty() const { return type_ == kNone; }
  std::optional<ValueType> type() const {
    return empty() ? std::nullopt : std::optional<ValueType>(static_cast<ValueType>(type_));
  }
  const CpuSet& cpus() const;  // an empty set unless a mask
  unsigned bits() const { return bits_; }
  long long num() const;             // 0 unless a number
  const Channels& counts() const;    // all zero unless channel counts

  // The one text form: the kernel's hex mask at `bits` wide, the decimal number, "combined 4"
  // or "rx 4 tx 4"; "" for none.
  std::string text() const;
  // For people: masks as CPU or queue lists ("0-3", "none"), "-" for none.
  std::string for_people() const;

 private:
  // One of these, as type_ says: a plan holds a value for every queue and IRQ of every NIC, 16
  // bytes each (a std::variant and an optional type took 24, each kind's own member 72).
  union Slot {
    Slot() noexcept : n(0) {}
    ~Slot() {}
    Shared<CpuSet> set;       // CpuMask, QueueMask
    long long n;              // Number
    Shared<Channels> counts;  // Channels
  };
  static constexpr unsigned char kNone = 0xff;
  static constexpr auto kCpuMask = static_cast<unsigned char>(ValueType::CpuMask);
  static constexpr auto kQueueMask = static_cast<unsigned char>(ValueType::QueueMask);
  static constexpr auto kChannels = static_cast<unsigned char>(ValueType::Channels);
  bool is_mask() const { return type_ == kCpuMask || type_ == kQueueMask; }
  // Lets the mask or counts go (the value is then to be destroyed or given another).
  void release() noexcept {
    if (is_mask()) slot_.set.~Shared<CpuSet>();
    else if (type_ == kChannels) slot_.counts.~Shared<Channels>();
  }
  void clear() noexcept {
    release();
    type_ = kNone;
    bits_ = 0;
  }
  // Into a cleared value.
  void take(const Value& o) noexcept {
    if (o.is_mask()) new (&slot_.set) Shared<CpuSet>(o.slot_.set);
    else if (o.type_ == kChannels) new (&slot_.counts) Shared<Channels>(o.slot_.counts);
    else slot_.n = o.slot_.n;  // a number, or nothing that is read
    type_ = o.type_;
    bits_ = o.bits_;
  }
  // The same; o is left none.
  void take(Value&& o) noexcept {
    if (o.is_mask()) new (&slot_.set) Shared<CpuSet>(std::move(o.slot_.set));
    else if (o.type_ == kChannels) new (&slot_.counts) Shared<Channels>(std::move(o.slot_.counts));
    else slot_.n = o.slot_.n;
    type_ = o.type_;
    bits_ = o.bits_;
    o.clear();
  }

  Slot slot_;
  unsigned bits_ = 0;  // a mask's width
  unsigned char type_ = kNone;  // a ValueType, or kNone
};

// Parses a kind's text (as a kernel file holds it, or as text() printed it). Channels take the
// counts given ("combined 4", "rx 4 tx 4", or all four as older journals hold them) onto
// `limits`, which supplies the maxima and the counts not given.
Result<Value> parse_value(ValueType type, std::string_view text, const Channels& limits = {});

// Whether the kernel file's text holds `want` (masks as sets, numbers as numbers).
bool holds(std::string_view text, const Value& want);
// Whether what the kernel kept after writing `written` is what it makes of it (see Kept).
bool kernel_kept(Kept kept, std::string_view readback, const Value& written, const CpuSet& online);

}  // namespace gn
