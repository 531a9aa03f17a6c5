// The catalogue: every kind's row, names, paths and labels; every value type's one text form
// and its parser; what the kernel keeps after a write.
#include <gtest/gtest.h>

#include <set>

#include "catalogue.h"

namespace gn {
namespace {

TEST(Catalogue, EveryKindHasItsOwnNameLabelAndRank) {
  std::set<std::string> names, labels;
  for (const auto& r : kKinds) {
    EXPECT_TRUE(names.insert(r.name).second) << r.name;
    EXPECT_EQ(setting_kind_from_string(r.name), r.kind);
    if (*r.label != '\0') {
      EXPECT_TRUE(labels.insert(r.label).second) << r.label;
    }
    const bool in_a_directory = r.place == Place::RxQueue || r.place == Place::TxQueue || r.place == Place::Irq;
    EXPECT_EQ(in_a_directory, *r.file != '\0') << r.name << ": files live in queue and IRQ directories";
  }
  EXPECT_LT(row(SettingKind::Channels).revert_rank, row(SettingKind::Xps).revert_rank)
      << "channels are restored before the queues they make";
  EXPECT_LT(row(SettingKind::IrqAffinity).revert_rank, row(SettingKind::Sysctl).revert_rank);
  EXPECT_FALSE(setting_kind_from_string("tx_maxrate").has_value());
}

TEST(Catalogue, OnePathPerTarget) {
  Target t{SettingKind::Xps, "eth0", 3, 0, nullptr};
  EXPECT_EQ(t.path(), "sys/class/net/eth0/queues/tx-3/xps_cpus");
  EXPECT_EQ(t.label(), "tx-3 xps");
  t = Target{SettingKind::RpsFlowCnt, "eth0", 3, 0, nullptr};
  EXPECT_EQ(t.path(), "sys/class/net/eth0/queues/rx-3/rps_flow_cnt");
  EXPECT_EQ(t.label(), "rx-3 flows");
  t = Target{SettingKind::IrqAffinity, "eth0", 3, 27, nullptr};
  EXPECT_EQ(t.path(), "proc/irq/27/smp_affinity");
  EXPECT_EQ(t.label(), "irq 27 q3");
  t = Target{SettingKind::Channels, "eth0", -1, 0, nullptr};
  EXPECT_EQ(t.path(), "ethtool:eth0:channels");
  const Target sysctl{SettingKind::Sysctl, "", -1, 0, find_sysctl_row("net.core.netdev_budget")};
  EXPECT_EQ(sysctl.path(), "proc/sys/net/core/netdev_budget");
  EXPECT_EQ(sysctl.label(), "net.core.netdev_budget");
}

// virtio-net's last queue is a target; past it (or below -1) the 16-bit queue would name
// another, so constructing one aborts rather than wrap.
TEST(CatalogueDeathTest, AQueuePastTheLastAborts) {
  const Target last{SettingKind::Xps, "eth0", kMaxQueue, 0, nullptr};
  EXPECT_EQ(last.queue(), 32767);
  EXPECT_EQ(last.path(), "sys/class/net/eth0/queues/tx-32767/xps_cpus");
  EXPECT_DEATH(Target(SettingKind::Xps, "eth0", kMaxQueue + 1, 0, nullptr), "");
  EXPECT_DEATH(Target(SettingKind::RpsCpus, "eth0", -2, 0, nullptr), "");
  Target t{SettingKind::Xps, "eth0", 0, 0, nullptr};
  EXPECT_DEATH(t.set_queue(65536), "");
}

// The IRQ and the sysctl's row share one number: each reads as the kind says, or not at all.
TEST(Catalogue, TheIrqAndTheSysctlRowAreReadOnlyAsTheKindSays) {
  const SysctlRow* budget = find_sysctl_row("net.core.netdev_budget");
  ASSERT_NE(budget, nullptr);
  const Target irq{SettingKind::IrqAffinity, "eth0", 0, 3, budget};
  EXPECT_EQ(irq.irq(), 3u);
  EXPECT_EQ(irq.sysctl(), nullptr);
  const Target sysctl{SettingKind::Sysctl, "", -1, 3, budget};
  EXPECT_EQ(sysctl.sysctl(), budget);
  EXPECT_EQ(sysctl.irq(), 0u);
  EXPECT_EQ(Target(SettingKind::Sysctl, "", -1, 0, nullptr).sysctl(), nullptr);
  for (const auto& r : kSysctls) EXPECT_EQ(Target(SettingKind::Sysctl, "", -1, 0, &r).sysctl(), &r) << r.name;
}

TEST(Catalogue, SysctlRowsCarryOptionLimitsAndProfileValues) {
  const SysctlRow* budget = find_sysctl_row("netdev_budget");
  ASSERT_NE(budget, nullptr);
  EXPECT_EQ(find_sysctl_row("net.core.netdev_budget"), budget);
  EXPECT_EQ(find_sysctl_row("netdev_budge"), nullptr);
  EXPECT_STREQ(budget->option, "netdev-budget");
  ASSERT_TRUE(profile_value(*budget, Profile::Throughput).has_value());
  EXPECT_EQ(profile_value(*budget, Profile::Throughput)->value, 50000);
  EXPECT_TRUE(profile_value(*budget, Profile::Throughput)->at_least);
  EXPECT_FALSE(profile_value(*budget, Profile::Balanced).has_value());
  EXPECT_EQ(profile_value(*find_sysctl_row("busy_poll"), Profile::Latency)->value, 50);
  EXPECT_EQ(find_sysctl_row("rps_sock_flow_entries")->kept, Kept::PowerOfTwo);
  for (const auto& r : kSysctls) EXPECT_LE(r.min, r.max) << r.name;
}

TEST(Values, OneTextFormEachAndItParsesBack) {
  const Value mask = Value::mask(ValueType::CpuMask, CpuSet::of({0, 33}), 36);
  EXPECT_EQ(mask.text(), "2,00000001");
  EXPECT_EQ(mask.for_people(), "0,33");
  auto back = parse_value(ValueType::CpuMask, "2,00000001\n");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cpus(), mask.cpus());

  EXPECT_EQ(Value::number(8192).text(), "8192");
  EXPECT_FALSE(parse_value(ValueType::Number, "81x").ok());

  Channels limits;
  limits.max_combined = 8;
  limits.combined = 2;
  Channels want = limits;
  want.combined = 8;
  EXPECT_EQ(Value::channels(want).text(), "combined 8");
  auto ch = parse_value(ValueType::Channels, "combined 8", limits);
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(ch->counts(), want);
  // Journals written before the one text form held all four counts: they still parse.
  auto old = parse_value(ValueType::Channels, "rx 0 tx 0 other 0 combined 8", limits);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->counts(), want);
  for (const char* bad : {"", "combined", "combined x", "queues 4", "combined 70000", "combined -1"})
    EXPECT_FALSE(parse_value(ValueType::Channels, bad, limits).ok()) << "'" << bad << "'";

  EXPECT_TRUE(Value().empty());
  EXPECT_EQ(Value().text(), "");
  EXPECT_EQ(Value().for_people(), "-");
}

TEST(Values, HoldsComparesAsTheType) {
  EXPECT_TRUE(holds("00000000,0000000f", Value::mask(ValueType::CpuMask, CpuSet::range(0, 3), 64)));
  EXPECT_TRUE(holds("f", Value::mask(ValueType::CpuMask, CpuSet::range(0, 3), 64)));
  EXPECT_FALSE(holds("e", Value::mask(ValueType::CpuMask, CpuSet::range(0, 3), 64)));
  EXPECT_TRUE(holds("0064\n", Value::number(64)));
  EXPECT_FALSE(holds("", Value::number(0)));
  EXPECT_FALSE(holds("1", Value()));
}

TEST(Values, WhatTheKernelKeeps) {
  const CpuSet online = CpuSet::range(0, 2);
  const Value four = Value::mask(ValueType::CpuMask, CpuSet::range(0, 3), 4);
  EXPECT_TRUE(kernel_kept(Kept::OnlineCpus, "7", four, online)) << "offline CPU 3 dropped";
  EXPECT_FALSE(kernel_kept(Kept::OnlineCpus, "3", four, online));
  EXPECT_FALSE(kernel_kept(Kept::Same, "7", four, online));
  EXPECT_TRUE(kernel_kept(Kept::OnlineCpus, "3", four, CpuSet{})) << "online unknown: any subset";
  EXPECT_FALSE(kernel_kept(Kept::OnlineCpus, "10", four, CpuSet{}));
  EXPECT_TRUE(kernel_kept(Kept::PowerOfTwo, "4096", Value::number(3000), online));
  EXPECT_FALSE(kernel_kept(Kept::PowerOfTwo, "3000", Value::number(4000), online));
  EXPECT_FALSE(kernel_kept(Kept::Same, "4096", Value::number(3000), online));
}

// A Value holds one of a shared mask, a number or shared channel counts in one slot: copies
// share the mask, assigning one kind over another lets the old one go, and a moved-from or
// cleared value is none.
TEST(Values, CopiesShareTheirMaskAndAssigningAcrossTypesLetsTheOldOneGo) {
  auto set = Shared<CpuSet>::make(CpuSet::of({0, 2}));
  {
    Value a = Value::mask(ValueType::CpuMask, set, 8);
    EXPECT_EQ(set.use_count(), 2u);
    Value b = a;
    EXPECT_EQ(set.use_count(), 3u);
    EXPECT_EQ(b.text(), "05");
    EXPECT_EQ(&b.cpus(), &a.cpus()) << "one mask, not a copy";
    b = b;  // onto itself: still held
    EXPECT_EQ(set.use_count(), 3u);
    EXPECT_EQ(b.text(), "05");
    b = Value::number(42);
    EXPECT_EQ(set.use_count(), 2u) << "a number assigned over a mask lets the mask go";
    EXPECT_EQ(b.num(), 42);
    EXPECT_TRUE(b.cpus().empty());
    Channels c;
    c.max_combined = 4;
    c.combined = 2;
    Value ch = Value::channels(c);
    b = ch;
    EXPECT_EQ(b.text(), "combined 2");
    EXPECT_EQ(b.num(), 0);
    Value moved = std::move(a);
    EXPECT_TRUE(a.empty()) << "moved from: none";  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.text(), "");                          // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(set.use_count(), 2u) << "the move took the copy over";
    moved = ch;
    EXPECT_EQ(set.use_count(), 1u);
    EXPECT_EQ(moved.counts().combined, 2u);
    Value m = Value::mask(ValueType::QueueMask, set, 8);
    m = Value();
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.type(), std::nullopt);
    EXPECT_EQ(set.use_count(), 1u);
    m = Value::mask(ValueType::QueueMask, set, 8);
    EXPECT_EQ(m.type(), ValueType::QueueMask);
    EXPECT_EQ(set.use_count(), 2u);
  }
  EXPECT_EQ(set.use_count(), 1u) << "every copy gone with its value";
  static_assert(sizeof(Value) <= 16, "a plan holds a value for every queue file and IRQ");
}

// The value a plan's settings and the probe's files share: copies hold one value, moved-from and
// assigned-over copies let theirs go, and the last copy frees it (counted without atomics).
TEST(Shared, CopiesHoldOneValueUntilTheLastGoes) {
  struct Counted {
    int* alive;
    explicit Counted(int* a) : alive(a) { ++*alive; }
    Counted(const Counted&) = delete;
    ~Counted() { --*alive; }
  };
  int alive = 0;
  {
    auto a = Shared<Counted>::make(&alive);
    EXPECT_EQ(alive, 1);
    Shared<Counted> b = a, c;
    EXPECT_TRUE(a == b);
    EXPECT_EQ(a.use_count(), 2u);
    c = std::move(b);
    EXPECT_FALSE(static_cast<bool>(b));
    EXPECT_EQ(c.use_count(), 2u);
    c = c;  // onto itself: still held
    EXPECT_EQ(c.use_count(), 2u);
    a = Shared<Counted>();
    EXPECT_EQ(alive, 1) << "c still holds it";
    EXPECT_EQ(c.use_count(), 1u);
    auto other = Shared<Counted>::make(&alive);
    EXPECT_EQ(alive, 2);
    c = other;
    EXPECT_EQ(alive, 1) << "assigning over the last copy frees it";
    EXPECT_TRUE(c == other);
  }
  EXPECT_EQ(alive, 0);
}

}  // namespace
}  // namespace gn
