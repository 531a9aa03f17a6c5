// The planner over fixture snapshots: golden plans, and the properties every plan must have.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "fixture.h"
#include "plan_helpers.h"
#include "journal.h"
#include "plan_render.h"
#include "tempdir.h"

namespace gn::test {
namespace {

struct Planned {
  Facts facts;
  Plan plan;
};

Planned plan_fixture(const std::string& name, const Policy& policy = {}) {
  TempDir dir;
  named_fixtures().at(name).write(dir.path());
  Planned p{probe_snapshot(dir.path(), policy), {}};
  p.plan = make_plan(p.facts, policy);
  return p;
}

std::vector<const Setting*> of_kind(const Plan& plan, SettingKind k, const std::string& nic = "") {
  std::vector<const Setting*> out;
  for (const auto& s : plan.settings)
    if (s.kind == k && (nic.empty() || s.nic == nic)) out.push_back(&s);
  return out;
}

CpuSet mask_of(const std::string& text) {
  auto m = parse_cpumask(text);
  EXPECT_TRUE(m.ok()) << text;
  return m ? *m : CpuSet{};
}

// Every usable CPU in exactly one planned XPS mask of the NIC; nothing else in any.
void expect_partition(const Planned& p, const std::string& nic) {
  const CpuSet usable = p.facts.cpus.usable();
  CpuSet seen;
  for (const Setting* s : of_kind(p.plan, SettingKind::Xps, nic)) {
    ASSERT_FALSE(s->desired.empty()) << s->path() << ": " << s->reason;
    const CpuSet m = mask_of(s->desired.text());
    EXPECT_TRUE((m & seen).empty()) << s->path() << " repeats CPUs " << format_cpulist(m & seen);
    EXPECT_EQ(m - usable, CpuSet{}) << s->path() << " has unusable CPUs";
    seen = seen | m;
  }
  EXPECT_EQ(seen, usable) << nic;
}

std::string golden_dir() { return std::string(GN_SOURCE_DIR) + "/tests/golden"; }

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, PlanMatchesTheReviewedFile) {
  const std::string name = GetParam();
  const Planned p = plan_fixture(name);
  const nlohmann::json got = plan_json(p.facts, Policy{}, p.plan);
  const std::string file = golden_dir() + "/" + name + ".json";
  if (std::getenv("GN_UPDATE_GOLDEN") != nullptr) {
    write_text(file, got.dump(2) + "\n");
    GTEST_SKIP() << "regenerated " << file << ": review the diff before committing it";
  }
  ASSERT_TRUE(std::filesystem::exists(file)) << file << " is missing: run with GN_UPDATE_GOLDEN=1 and review it";
  const nlohmann::json want = nlohmann::json::parse(read_text(file));
  EXPECT_EQ(got, want) << "plan of " << name << " changed; diff:\n" << nlohmann::json::diff(want, got).dump(2);
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& [name, f] : named_fixtures()) names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden, ::testing::ValuesIn(fixture_names()),
                         [](const auto& param_info) {
                           std::string s = param_info.param;
                           for (char& c : s)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// An XPS reason calls its block contiguous only when the CPUs are one run of numbers; the
// others (SMT siblings, NUMA nodes) say what they are, and the node they name holds them.
TEST(Plan, XpsReasonsSayWhatTheBlockIs) {
  for (const auto& name : fixture_names()) {
    const Planned p = plan_fixture(name);
    for (const Setting* s : of_kind(p.plan, SettingKind::Xps)) {
      if (s->desired.empty()) continue;
      const CpuSet m = s->desired.cpus();
      const bool run = m.count() == m.end() - m.cpus().front();
      EXPECT_EQ(s->reason.view().find("contiguous") != std::string::npos, run) << name << " " << s->path() << ": " << s->reason;
      const auto node_at = s->reason.view().find("on NUMA node ");
      if (node_at != std::string::npos) {
        const unsigned node = static_cast<unsigned>(std::stoul(std::string(s->reason.view().substr(node_at + 13))));
        ASSERT_LT(node, p.facts.cpus.nodes.size()) << s->reason;
        EXPECT_EQ(m - p.facts.cpus.nodes[node], CpuSet{}) << name << " " << s->reason;
      }
    }
  }
}

TEST(Plan, IsDeterministic) {
  TempDir dir;
  named_fixtures().at("numa-2x36").write(dir.path());
  const Facts f = probe_snapshot(dir.path());
  EXPECT_EQ(plan_json(f, {}, make_plan(f, {})).dump(), plan_json(f, {}, make_plan(f, {})).dump());
}

// A flow count the probe could not read (a NIC removed as it read the queue, or a kernel without
// the file) is left alone with the reason, as an unreadable rps_cpus is: there is no original to
// journal. The queue's rps_cpus is still planned.
TEST(Plan, AnUnreadableFlowCountIsSkippedWithItsReason) {
  Policy policy;
  policy.rps = RpsMode::On;
  TempDir dir;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(dir.path());
  std::filesystem::remove(dir / "sys/class/net/eth0/queues/rx-1/rps_flow_cnt");
  const Facts f = probe_snapshot(dir.path(), policy);
  const Plan plan = make_plan(f, policy);
  const auto counts = of_kind(plan, SettingKind::RpsFlowCnt, "eth0");
  ASSERT_EQ(counts.size(), 4u);
  for (const Setting* s : counts) {
    if (s->queue() == 1) {
      EXPECT_EQ(s->action, Action::Skip);
      EXPECT_EQ(s->reason.view(), "RFS not present on this kernel");
    } else {
      EXPECT_EQ(s->action, Action::Write) << s->path();
    }
  }
  for (const Setting* s : of_kind(plan, SettingKind::RpsCpus, "eth0")) EXPECT_NE(s->action, Action::Skip) << s->path();
}

TEST(Plan, Rhel74DriverPicksQueue) {
  const Planned p = plan_fixture("rhel7.4-combined-1-of-8");
  EXPECT_EQ(p.facts.behaviour, DriverBehaviour::DriverSelectsQueue);
  const auto ch = of_kind(p.plan, SettingKind::Channels);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0]->action, Action::Write);
  EXPECT_EQ(ch[0]->current, "combined 1");
  EXPECT_EQ(ch[0]->desired.text(), "combined 8");
  const auto xps = of_kind(p.plan, SettingKind::Xps);
  ASSERT_EQ(xps.size(), 8u);
  for (const Setting* s : xps) {
    EXPECT_EQ(s->action, Action::Skip);
    EXPECT_NE(s->reason.view().find("not applicable"), std::string::npos);
  }
  // No netdev_budget_usecs on this kernel: skipped and said so.
  for (const Setting* s : of_kind(p.plan, SettingKind::Sysctl))
    if (s->path().find("netdev_budget_usecs") != std::string::npos) {
      EXPECT_EQ(s->action, Action::Skip);
      EXPECT_NE(s->reason.view().find("not available"), std::string::npos);
    }
}

TEST(Plan, Rhel80NineCpusFourQueues) {
  const Planned p = plan_fixture("rhel8.0-9vcpu-4-queues");
  EXPECT_EQ(p.facts.behaviour, DriverBehaviour::XpsOnlyWhenEqual);
  const auto xps = of_kind(p.plan, SettingKind::Xps);
  ASSERT_EQ(xps.size(), 4u);
  const char* blocks[] = {"0-2", "3-4", "5-6", "7-8"};
  for (size_t q = 0; q < 4; ++q) {
    EXPECT_EQ(xps[q]->action, Action::Write);
    EXPECT_EQ(format_cpulist(mask_of(xps[q]->desired.text())), blocks[q]);
    EXPECT_EQ(xps[q]->desired.text().size(), 3u) << "9 CPUs print as 3 hex digits";
  }
  expect_partition(p, "eth0");
  // IRQ pairs follow their queue's block.
  for (const Setting* s : of_kind(p.plan, SettingKind::IrqAffinity))
    EXPECT_EQ(format_cpulist(mask_of(s->desired.text())), blocks[s->queue()]) << s->path();
  // Fewer queues than CPUs: RPS over every CPU, RFS table sized.
  const auto rps = of_kind(p.plan, SettingKind::RpsCpus);
  ASSERT_EQ(rps.size(), 4u);
  EXPECT_EQ(format_cpulist(mask_of(rps[0]->desired.text())), "0-8");
  const auto cnt = of_kind(p.plan, SettingKind::RpsFlowCnt);
  EXPECT_EQ(cnt[0]->desired.text(), "8192");
}

TEST(Plan, AlreadyStripedKernelNeedsNoWrites) {
  Policy balanced;
  balanced.profile = Profile::Balanced;
  const Planned p = plan_fixture("linux6.1-striped", balanced);
  EXPECT_EQ(p.plan.count(Action::Write), 0u);
  EXPECT_GT(p.plan.count(Action::Keep), 8u);  // channels, 4 XPS, 8 IRQs
}

TEST(Plan, NumaBlocksStayOnOneNode) {
  const Planned p = plan_fixture("numa-2x36");
  expect_partition(p, "eth0");
  const auto xps = of_kind(p.plan, SettingKind::Xps);
  ASSERT_EQ(xps.size(), 16u);
  for (const Setting* s : xps) {
    const CpuSet m = mask_of(s->desired.text());
    const bool node0 = (m - p.facts.cpus.nodes[0]).empty(), node1 = (m - p.facts.cpus.nodes[1]).empty();
    EXPECT_TRUE(node0 || node1) << s->path() << " spans nodes: " << format_cpulist(m);
    // SMT siblings (n, n+18) stay together: blocks of 4 or 5 on 36 CPUs hold whole pairs
    // when even-sized.
    if (m.count() % 2 == 0) {
      for (unsigned c : m.cpus()) {
        const unsigned sib = (c % 36) < 18 ? c + 18 : c - 18;
        EXPECT_TRUE(m.has(sib)) << s->path() << " splits " << c << "/" << sib;
      }
    }
  }
  // RPS stays on the queue's node.
  for (const Setting* s : of_kind(p.plan, SettingKind::RpsCpus)) {
    if (s->desired.empty()) continue;
    const CpuSet m = mask_of(s->desired.text());
    EXPECT_TRUE(m == p.facts.cpus.nodes[0] || m == p.facts.cpus.nodes[1]) << s->path();
  }
}

TEST(Plan, TwoHundredEightyEightCpus) {
  const Planned p = plan_fixture("cpus-288");
  const auto ch = of_kind(p.plan, SettingKind::Channels);
  EXPECT_EQ(ch[0]->desired.text(), "combined 64");
  expect_partition(p, "eth0");
  for (const Setting* s : of_kind(p.plan, SettingKind::Xps)) {
    const std::string text = s->desired.text();
    EXPECT_EQ(std::count(text.begin(), text.end(), ','), 8) << "9 groups for 288 CPUs";
    const unsigned n = mask_of(s->desired.text()).count();
    EXPECT_TRUE(n == 4 || n == 5) << n;
  }
}

TEST(Plan, OfflineAndIsolatedCpusAreNeverInMasks) {
  for (const char* name : {"offline-cpus", "isolated-cpus"}) {
    const Planned p = plan_fixture(name);
    const CpuSet usable = p.facts.cpus.usable();
    EXPECT_EQ(usable.count(), 6u) << name;
    EXPECT_EQ(of_kind(p.plan, SettingKind::Channels)[0]->desired.text(), "combined 6") << name;
    expect_partition(p, "eth0");
    for (const auto& s : p.plan.settings) {
      if (s.kind == SettingKind::Channels || s.kind == SettingKind::Sysctl ||
          s.kind == SettingKind::RpsFlowCnt || s.desired.empty())
        continue;
      EXPECT_EQ(mask_of(s.desired.text()) - usable, CpuSet{}) << name << " " << s.path();
    }
  }
}

TEST(Plan, SmtSiblingsShareAQueue) {
  const Planned p = plan_fixture("smt-pairs");
  const auto xps = of_kind(p.plan, SettingKind::Xps);
  ASSERT_EQ(xps.size(), 4u);
  for (unsigned q = 0; q < 4; ++q) EXPECT_EQ(mask_of(xps[q]->desired.text()), CpuSet::of({q, q + 4}));
}

// One queue pair offered by the host: channels, XPS and IRQs stay as they are; with rps = auto the
// receive work is spread by RPS over the usable CPUs of the queue's node, with RFS flow entries.
TEST(Plan, SingleQueueGetsRpsAndRfs) {
  const Planned p = plan_fixture("single-queue");  // 4 CPUs, one node
  const auto ch = of_kind(p.plan, SettingKind::Channels);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0]->action, Action::Skip);
  EXPECT_NE(ch[0]->reason.view().find("single queue"), std::string::npos);
  EXPECT_NE(ch[0]->reason.view().find("on the host"), std::string::npos) << ch[0]->reason;
  for (SettingKind k : {SettingKind::Xps, SettingKind::IrqAffinity})
    for (const Setting* s : of_kind(p.plan, k, "eth0")) EXPECT_EQ(s->action, Action::Skip) << s->path() << ": " << s->reason;
  const auto rps = of_kind(p.plan, SettingKind::RpsCpus, "eth0");
  ASSERT_EQ(rps.size(), 1u);
  EXPECT_EQ(rps[0]->action, Action::Write);
  EXPECT_EQ(mask_of(rps[0]->desired.text()), p.facts.cpus.usable());
  const auto flows = of_kind(p.plan, SettingKind::RpsFlowCnt, "eth0");
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0]->action, Action::Write);
  EXPECT_EQ(flows[0]->desired.text(), "32768");  // the whole RFS table for its one queue
  bool rfs = false;
  for (const Setting* s : of_kind(p.plan, SettingKind::Sysctl))
    if (s->path().find("rps_sock_flow_entries") != std::string::npos) {
      rfs = true;
      EXPECT_EQ(s->action, Action::Write);
      EXPECT_EQ(s->desired.text(), "32768");
    }
  EXPECT_TRUE(rfs) << "RFS needs net.core.rps_sock_flow_entries";

  // Two NUMA nodes: the queue's node only (where its IRQ and block start), isolated CPUs left out.
  Fixture numa = named_fixtures().at("single-queue");
  numa.possible = 8;
  numa.nodes = {"0-3", "4-7"};
  numa.isolated = "1";
  {
    TempDir dir;
    numa.write(dir.path());
    const Facts facts = probe_snapshot(dir.path());
    const Plan plan = make_plan(facts, Policy{});
    const auto r = of_kind(plan, SettingKind::RpsCpus, "eth0");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(mask_of(r[0]->desired.text()), CpuSet::of({0, 2, 3}));
  }
  // One usable CPU: nothing to spread.
  Fixture one = named_fixtures().at("single-queue");
  one.online = "0";
  {
    TempDir dir;
    one.write(dir.path());
    const Facts facts = probe_snapshot(dir.path());
    const Plan plan = make_plan(facts, Policy{});
    for (const Setting& s : plan.settings)
      if (s.nic == "eth0") {
        EXPECT_EQ(s.action, Action::Skip) << s.path() << ": " << s.reason;
      }
  }
  // rps = off clears it, as for any NIC.
  Policy off;
  off.rps = RpsMode::Off;
  const Planned q = plan_fixture("single-queue", off);
  const auto r = of_kind(q.plan, SettingKind::RpsCpus, "eth0");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(mask_of(r[0]->desired.text()), CpuSet{});
  EXPECT_EQ(r[0]->action, Action::Keep);
}

// The reason given for skipping XPS must be true: the kernel refuses xps_cpus only on a device
// with one tx queue in all, not on a multiqueue device that uses one.
TEST(Plan, XpsReasonSaysWhyItIsSkipped) {
  Fixture f;  // combined 1 of max 4, one usable CPU left
  f.possible = 4;
  f.online = "0";
  FixtureNic n;
  n.name = "eth0";
  n.max_queues = 4;
  n.queues = 1;
  f.nics = {n};
  TempDir dir;
  f.write(dir.path());
  const Facts facts = probe_snapshot(dir.path());
  ASSERT_NE(facts.find_nic("eth0"), nullptr);
  ASSERT_TRUE(facts.find_nic("eth0")->tx.at(0).file(SettingKind::Xps)->readable()) << "the file works on this device";
  const Plan plan = make_plan(facts, Policy{});
  const auto xps = of_kind(plan, SettingKind::Xps, "eth0");
  ASSERT_EQ(xps.size(), 1u);
  EXPECT_EQ(xps[0]->action, Action::Skip);
  EXPECT_EQ(xps[0]->reason.view().find("refuses"), std::string::npos) << xps[0]->reason;
  EXPECT_NE(xps[0]->reason.view().find("one tx queue in use"), std::string::npos) << xps[0]->reason;

  // One tx queue in all on 6.1: the file answers ENOENT, and the reason says the kernel refuses it.
  const Planned single = plan_fixture("single-queue");
  ASSERT_FALSE(single.facts.find_nic("eth0")->tx.at(0).file(SettingKind::Xps)->readable());
  const auto sx = of_kind(single.plan, SettingKind::Xps, "eth0");
  ASSERT_EQ(sx.size(), 1u);
  EXPECT_NE(sx[0]->reason.view().find("refuses xps_cpus"), std::string::npos) << sx[0]->reason;

  // The same device on 4.15, whose file reads: it is single-queue, but nothing is refused.
  Fixture old = named_fixtures().at("single-queue");
  old.release = "4.15.0-213-generic";
  old.xps_rxqs = false;
  TempDir old_dir;
  old.write(old_dir.path());
  const Facts old_facts = probe_snapshot(old_dir.path());
  ASSERT_TRUE(old_facts.find_nic("eth0")->tx.at(0).file(SettingKind::Xps)->readable());
  const Plan old_plan = make_plan(old_facts, Policy{});
  const auto ox = of_kind(old_plan, SettingKind::Xps, "eth0");
  ASSERT_EQ(ox.size(), 1u);
  EXPECT_EQ(ox[0]->reason.view().find("refuses"), std::string::npos) << ox[0]->reason;
  EXPECT_NE(ox[0]->reason.view().find("single-queue"), std::string::npos) << ox[0]->reason;
}

TEST(Plan, OtherDriversAreNotTouched) {
  const Planned p = plan_fixture("non-virtio-nic");
  for (const auto& s : p.plan.settings) EXPECT_NE(s.nic, "ens3") << s.path();
  bool reported = false;
  for (const auto& n : p.plan.nics)
    if (n.name == "ens3") {
      reported = true;
      EXPECT_EQ(n.role, "other");
      EXPECT_NE(n.detail.find("e1000"), std::string::npos);
    }
  EXPECT_TRUE(reported);
  // Named with --driver, it becomes tunable.
  Policy p2;
  p2.drivers.insert("e1000");
  const Planned q = plan_fixture("non-virtio-nic", p2);
  EXPECT_FALSE(of_kind(q.plan, SettingKind::Channels, "ens3").empty());
}

TEST(Plan, BondTunesItsLowerDevices) {
  const Planned p = plan_fixture("bond-over-virtio");
  for (const auto& s : p.plan.settings) EXPECT_NE(s.nic, "bond0");
  EXPECT_FALSE(of_kind(p.plan, SettingKind::Channels, "eth0").empty());
  EXPECT_FALSE(of_kind(p.plan, SettingKind::Channels, "eth1").empty());
  // eth1 has one vector for every queue: its IRQ is reported, not written.
  const auto irq1 = of_kind(p.plan, SettingKind::IrqAffinity, "eth1");
  ASSERT_EQ(irq1.size(), 1u);
  EXPECT_EQ(irq1[0]->action, Action::Skip);
  // Naming the bond selects exactly its lower devices.
  Policy only_bond;
  only_bond.interfaces = {"bond0"};
  EXPECT_EQ(selected_nics(p.facts, only_bond), (std::vector<std::string>{"eth0", "eth1"}));
  only_bond.exclude = {"eth1"};
  EXPECT_EQ(selected_nics(p.facts, only_bond), (std::vector<std::string>{"eth0"}));
}

// A wide guest's plan names a NIC in every one of tens of thousands of settings: one copy of
// each name serves them all, and the sysctls name none.
TEST(Plan, SettingsOfOneNicShareOneCopyOfItsName) {
  const Planned p = plan_fixture("bond-over-virtio");
  std::map<std::string, const Setting*> first;
  std::map<std::string, size_t> settings;
  for (const auto& s : p.plan.settings) {
    if (s.kind == SettingKind::Sysctl) {
      EXPECT_TRUE(s.nic.same_copy(SharedText())) << s.path() << ": a sysctl names no NIC, not even an empty copy";
      continue;
    }
    ASSERT_FALSE(s.nic.empty()) << s.path();
    ++settings[s.nic.str()];
    const Setting*& f = first[s.nic.str()];
    if (f == nullptr) f = &s;
    else EXPECT_TRUE(s.nic.same_copy(f->nic)) << s.path();
  }
  EXPECT_EQ(settings.size(), 2u);
  for (const char* nic : {"eth0", "eth1"}) EXPECT_GE(settings[nic], 2u) << nic;
}

TEST(Plan, VlanTunesTheVirtioBelow) {
  const Planned p = plan_fixture("vlan-on-virtio");
  Policy v;
  v.interfaces = {"eth0.100"};
  EXPECT_EQ(selected_nics(p.facts, v), (std::vector<std::string>{"eth0"}));
  for (const auto& s : p.plan.settings) EXPECT_NE(s.nic, "eth0.100");
}

TEST(Plan, MoreQueuesThanCpus) {
  const Planned p = plan_fixture("more-queues-than-cpus");
  EXPECT_EQ(of_kind(p.plan, SettingKind::Channels)[0]->desired.text(), "combined 2");
  expect_partition(p, "eth0");
  // With channels left alone, 8 queues wrap around 2 CPUs as the driver does.
  Policy keep;
  keep.channels = false;
  const Planned w = plan_fixture("more-queues-than-cpus", keep);
  const auto xps = of_kind(w.plan, SettingKind::Xps);
  ASSERT_EQ(xps.size(), 8u);
  for (unsigned q = 0; q < 8; ++q) EXPECT_EQ(mask_of(xps[q]->desired.text()), CpuSet::of({q % 2}));
}

TEST(Plan, SwitchesAndObserve) {
  Policy off;
  off.xps = false;
  off.irq_affinity = false;
  off.sysctls = false;
  off.rps = RpsMode::Off;
  const Planned p = plan_fixture("rhel8.0-9vcpu-4-queues", off);
  for (const auto& s : p.plan.settings) {
    if (s.kind == SettingKind::Xps || s.kind == SettingKind::IrqAffinity || s.kind == SettingKind::Sysctl) {
      EXPECT_EQ(s.action, Action::Skip) << s.path();
    }
    if (s.kind == SettingKind::RpsCpus) {
      EXPECT_EQ(mask_of(s.desired.text()), CpuSet{}) << s.path();
    }
  }
  Policy observe;
  observe.profile = Profile::Observe;
  const Planned o = plan_fixture("rhel8.0-9vcpu-4-queues", observe);
  EXPECT_EQ(o.plan.count(Action::Write), 0u);
  EXPECT_GT(o.plan.count(Action::Skip), 8u);
}

TEST(Plan, ChannelCapAndSysctlOverrides) {
  Policy p;
  p.channel_cap = 2;
  p.sysctl_overrides["net.core.netdev_budget"] = 600;
  p.profile = Profile::Latency;
  const Planned pl = plan_fixture("rhel8.0-9vcpu-4-queues", p);
  EXPECT_EQ(of_kind(pl.plan, SettingKind::Channels)[0]->desired.text(), "combined 2");
  EXPECT_EQ(of_kind(pl.plan, SettingKind::Xps).size(), 2u);
  std::map<std::string, std::string> sysctls;
  for (const Setting* s : of_kind(pl.plan, SettingKind::Sysctl)) sysctls[s->path()] = s->desired.text();
  EXPECT_EQ(sysctls["proc/sys/net/core/netdev_budget"], "600");
  EXPECT_EQ(sysctls["proc/sys/net/core/busy_poll"], "50");
  EXPECT_EQ(sysctls.count("proc/sys/net/core/netdev_max_backlog"), 0u);
}

}  // namespace
}  // namespace gn::test

namespace gn::test {
namespace {

// Latency makes each tx queue follow its rx queue (xps_rxqs) where the kernel has the file;
// other profiles leave xps_rxqs alone, and so does a kernel without it.
TEST(PlanXpsRxqs, LatencyPairsEachTxQueueWithItsRxQueue) {
  Policy latency;
  latency.profile = Profile::Latency;
  const Planned p = plan_fixture("rhel8.0-9vcpu-4-queues", latency);
  EXPECT_TRUE(of_kind(p.plan, SettingKind::XpsRxqs).empty()) << "4.18.0-80 has no xps_rxqs";
  const Planned l = plan_fixture("linux6.1-striped", latency);
  const auto rxqs = of_kind(l.plan, SettingKind::XpsRxqs);
  ASSERT_EQ(rxqs.size(), 4u);
  for (unsigned q = 0; q < 4; ++q) {
    EXPECT_EQ(rxqs[q]->queue(), static_cast<int>(q));
    EXPECT_EQ(rxqs[q]->action, Action::Write) << rxqs[q]->reason;
    EXPECT_EQ(rxqs[q]->desired.cpus(), CpuSet::of({q}));
    EXPECT_EQ(rxqs[q]->desired.text(), std::string(1, "1248"[q]));
    EXPECT_EQ(rxqs[q]->path(), "sys/class/net/eth0/queues/tx-" + std::to_string(q) + "/xps_rxqs");
  }
  const Planned throughput = plan_fixture("linux6.1-striped");
  EXPECT_TRUE(of_kind(throughput.plan, SettingKind::XpsRxqs).empty()) << "throughput";
  latency.xps = false;
  const Planned off = plan_fixture("linux6.1-striped", latency);
  EXPECT_EQ(of_kind(off.plan, SettingKind::XpsRxqs).size(), 4u);
  for (const Setting* s : of_kind(off.plan, SettingKind::XpsRxqs)) EXPECT_EQ(s->action, Action::Skip);
}

// Every enum's string table round-trips, and unknown text is refused.
TEST(Tables, EnumsRoundTrip) {
  for (auto p : {Profile::Observe, Profile::Balanced, Profile::Throughput, Profile::Latency})
    EXPECT_EQ(profile_from_string(to_string(p)), p);
  EXPECT_FALSE(profile_from_string("fast").has_value());
  for (auto m : {RpsMode::Auto, RpsMode::On, RpsMode::Off}) EXPECT_EQ(rps_mode_from_string(to_string(m)), m);
  EXPECT_FALSE(rps_mode_from_string("maybe").has_value());
  for (const auto& r : kKinds) EXPECT_EQ(setting_kind_from_string(to_string(r.kind)), r.kind);
  EXPECT_FALSE(setting_kind_from_string("nonsense").has_value());
  std::set<std::string> names;
  for (auto a : {Action::Write, Action::Keep, Action::Skip}) names.insert(to_string(a));
  for (auto r : {IrqRole::Input, IrqRole::Output, IrqRole::Shared, IrqRole::Legacy}) names.insert(to_string(r));
  for (auto r : {NicRole::Tunable, NicRole::Upper, NicRole::Other}) names.insert(to_string(r));
  EXPECT_EQ(names.size(), 10u) << "every name distinct";
  EXPECT_EQ(names.count("?"), 0u);
}

// The plan's own texts: every view stays the text kept, across many blocks, a text longer than a
// block, and the plan moving.
TEST(PlanTexts, ViewsOfKeptTextsStayTheirTextsAsBlocksFillAndThePlanMoves) {
  std::optional<Plan> plan(std::in_place);
  std::vector<std::pair<KeptText, std::string>> kept;
  for (unsigned i = 0; i < 5000; ++i) {
    std::string text = "reason " + std::to_string(i) + std::string(i % 97, static_cast<char>('a' + i % 26));
    if (i == 2500) text = std::string(40000, 'L');  // longer than a block
    if (i == 2600) text.clear();
    if (i % 2 == 0) {
      kept.emplace_back(plan->own_texts.keep(text), text);
    } else {
      // The same text from parts, one of them empty, as the planner lays an IRQ's reason.
      const std::string_view whole = text;
      const size_t cut = whole.size() / 3;
      kept.emplace_back(plan->own_texts.keep({whole.substr(0, cut), "", whole.substr(cut)}), text);
    }
  }
  // Moved twice, each plan moved from gone at once: a move that copied the blocks would leave
  // the views on freed memory (which the sanitizer build reports).
  std::optional<Plan> moved(std::move(*plan));
  plan.reset();
  Plan again;
  again = std::move(*moved);
  moved.reset();
  // The plan moved to goes on filling its last block where the first left it.
  for (unsigned i = 0; i < 3000; ++i) {
    const std::string text = "after the moves " + std::to_string(i);
    kept.emplace_back(again.own_texts.keep({"after the moves ", std::to_string(i)}), text);
  }
  // Each read only now, length and characters, after every later text and both moves.
  for (size_t i = 0; i < kept.size(); ++i) ASSERT_EQ(kept[i].first.view(), kept[i].second) << i;
}

// The renderers show a target built in one piece from its parts; it must read exactly as the
// journal's text of it does when shown.
TEST(DisplayTarget, ATargetShowsAsItsPathDoes) {
  const SysctlRow* budget = find_sysctl_row("netdev_budget");
  ASSERT_NE(budget, nullptr);
  // Each place's path written out: the journal keys its entries by these, and revert writes to them.
  const auto expected = [](Place place, const std::string& file, int queue) -> std::string {
    const std::string q = std::to_string(queue);
    switch (place) {
      case Place::Ethtool: return "ethtool:enp1s0:channels";
      case Place::RxQueue: return "sys/class/net/enp1s0/queues/rx-" + q + "/" + file;
      case Place::TxQueue: return "sys/class/net/enp1s0/queues/tx-" + q + "/" + file;
      case Place::Irq: return "proc/irq/1234567/smp_affinity";
      case Place::Sysctl: return "proc/sys/net/core/netdev_budget";
    }
    return {};
  };
  const std::pair<SettingKind, const char*> files[] = {
      {SettingKind::RpsCpus, "rps_cpus"}, {SettingKind::RpsFlowCnt, "rps_flow_cnt"}, {SettingKind::Xps, "xps_cpus"},
      {SettingKind::XpsRxqs, "xps_rxqs"}, {SettingKind::IrqAffinity, "smp_affinity"}};
  for (const auto& r : kKinds) {
    std::string file;
    for (const auto& [kind, name] : files)
      if (kind == r.kind) file = name;
    for (const int queue : {0, 7, 255}) {
      const Target t{r.kind, r.place == Place::Sysctl ? "" : "enp1s0", queue, 1234567, budget};
      const std::string path = expected(r.place, file, queue);
      EXPECT_EQ(t.path(), path) << r.name;
      EXPECT_EQ(t.path("/"), "/" + path) << r.name;
      EXPECT_EQ(t.path("x:"), "x:" + path) << r.name;
      EXPECT_EQ(display_target(t), r.place == Place::Ethtool ? "enp1s0 channels" : "/" + path) << r.name;
      EXPECT_EQ(display_target(path), display_target(t)) << r.name;
    }
  }
  EXPECT_EQ(display_target(Target{SettingKind::Channels, "eth0", -1, 0, nullptr}), "eth0 channels");
  EXPECT_EQ(display_target(Target{SettingKind::Xps, "eth0", 12, 0, nullptr}), "/sys/class/net/eth0/queues/tx-12/xps_cpus");
  EXPECT_EQ(display_target(Target{SettingKind::IrqAffinity, "eth0", 3, 4294967295u, nullptr}), "/proc/irq/4294967295/smp_affinity");
}

}  // namespace
}  // namespace gn::test
