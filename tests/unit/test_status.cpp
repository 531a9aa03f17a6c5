// Status: the JSON against docs/status-schema.json, Prometheus text, the table, drift causes,
// load tiers and the checks, over fixture snapshots.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "apply.h"
#include "checks.h"
#include "fixture.h"
#include "load_sample.h"
#include "plan_helpers.h"
#include "status.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using nlohmann::json;

// Validates with Debian's python3-jsonschema; the second return is its message.
std::pair<bool, std::string> validate(const json& doc) {
  TempDir d;
  write_text(d / "doc.json", doc.dump());
  const auto r = run_command("/usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), "
                             "json.load(open(sys.argv[2])))' " + d / "doc.json" + " " GN_SOURCE_DIR "/docs/status-schema.json 2>&1");
  return {r.code == 0, r.out};
}

struct Rig {
  explicit Rig(const std::string& name) {
    named_fixtures().at(name).write(dir.path());
    facts = probe_snapshot(dir.path());
    plan = make_plan(facts, policy);
  }
  Status status() { return Status{facts, policy, plan, std::nullopt, journal, std::nullopt}; }
  TempDir dir;
  Policy policy;
  Facts facts;
  Plan plan;
  JournalTargets journal;
};

TEST(StatusJson, EveryFixtureMatchesTheSchema) {
  for (const auto& [name, f] : named_fixtures()) {
    Rig r(name);
    const auto [ok, msg] = validate(status_json(r.status()));
    EXPECT_TRUE(ok) << name << ": " << msg;
  }
}

TEST(StatusJson, WithALoadSampleAndALastApplyToo) {
  Rig r("rhel8.0-9vcpu-4-queues");
  Status st = r.status();
  LoadSample l;
  l.seconds = 1;
  l.peak_pps = 250e3;
  l.nics.push_back({"eth0", 125e3, 125e3, {{0, 60e3}, {1, 65e3}}, {{0, 125e3}}});
  l.cpus.push_back({0, 1, 2, 3});
  classify_load(l, Profile::Throughput);
  st.load = l;
  st.last_apply = json{{"command", "apply"}, {"result", "ok"}, {"time", "2026-11-26T06:49:43Z"}, {"epoch", 1795654183}};
  const auto [ok, msg] = validate(status_json(st));
  EXPECT_TRUE(ok) << msg;
}

TEST(StatusJson, TheValidatorRejectsAWrongDocument) {
  Rig r("single-queue");
  json doc = status_json(r.status());
  doc["schema_version"] = "1";
  EXPECT_FALSE(validate(doc).first);
  doc = status_json(r.status());
  doc.erase("settings");
  EXPECT_FALSE(validate(doc).first);
}

TEST(StatusPrometheus, IsWellFormedTextExposition) {
  Rig r("numa-2x36");
  Status st = r.status();
  st.last_apply = json{{"command", "apply"}, {"result", "partial"}, {"time", "t"}, {"epoch", 1795654183}};
  std::ostringstream out;
  render_status_prometheus(out, st);
  const std::regex sample(R"(^guest_nettune_[a-z_]+(\{([a-z_]+="[^"\\]*(\\.[^"\\]*)*",?)*\})? -?[0-9.e+]+$)");
  const std::regex meta(R"(^# (HELP|TYPE) guest_nettune_[a-z_]+ .+$)");
  std::istringstream in(out.str());
  std::string line;
  std::set<std::string> names;
  while (std::getline(in, line)) {
    EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, meta)) << line;
    if (line[0] != '#') names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  for (const char* n : {"guest_nettune_info", "guest_nettune_drift", "guest_nettune_queues",
                        "guest_nettune_last_apply_success", "guest_nettune_last_apply_timestamp_seconds",
                        "guest_nettune_softnet_dropped_total", "guest_nettune_softnet_time_squeeze_total"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_NE(out.str().find("guest_nettune_last_apply_success 0"), std::string::npos);
  EXPECT_NE(out.str().find("guest_nettune_queues{nic=\"eth0\",kind=\"max\"} 16"), std::string::npos);
  EXPECT_NE(out.str().find("guest_nettune_softnet_dropped_total{cpu=\"71\"}"), std::string::npos);
}

TEST(StatusTable, CpuRangesPerNicAndColourOnlyWhenAsked) {
  Rig r("cpus-288");
  std::ostringstream plain, coloured;
  render_status_table(plain, r.status(), /*colour=*/false);
  render_status_table(coloured, r.status(), /*colour=*/true);
  const std::string t = plain.str();
  EXPECT_EQ(t.find('\033'), std::string::npos);
  EXPECT_NE(coloured.str().find("\033["), std::string::npos);
  EXPECT_NE(t.find("eth0  virtio_net  queues 8/64 (planned 64)"), std::string::npos) << t;
  EXPECT_NE(t.find("tx-0 xps"), std::string::npos);
  EXPECT_NE(t.find("0-35"), std::string::npos) << "CPU sets print as ranges";
  EXPECT_EQ(t.find("ffffffff"), std::string::npos) << "no hex masks for people";
  EXPECT_NE(t.find("not applied yet"), std::string::npos);
}

// Columns are sized from their contents: the longest names (net.core.netdev_budget_usecs) and
// values never run into the next column, and every row's state and "->" line up.
TEST(StatusTable, ColumnsFitTheirWidestCell) {
  Rig r("rhel8.0-9vcpu-4-queues");  // throughput profile: the long NAPI sysctl names, drifted XPS
  std::ostringstream out;
  render_status_table(out, r.status(), /*colour=*/false);
  const std::string t = out.str();
  ASSERT_NE(t.find("net.core.netdev_budget_usecs"), std::string::npos) << t;
  // A row: two spaces, the name, at least two spaces, the state, then two spaces or the end.
  const std::regex row(R"(^  (\S.*?\S)  +(ok|drift|n/a)(  .*)?$)");
  std::istringstream in(t);
  std::string line;
  std::set<size_t> state_at, arrow_at;
  unsigned rows = 0, sysctl_rows = 0;
  size_t widest_name = 0;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) != 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, row)) << "a column runs into the next: '" << line << "'\n" << t;
    ++rows;
    widest_name = std::max(widest_name, m[1].str().size());
    sysctl_rows += m[1].str().rfind("net.core.", 0) == 0;
    state_at.insert(static_cast<size_t>(m.position(2)));
    if (m[2] == "drift") {
      const auto arrow = line.find("-> ");
      ASSERT_NE(arrow, std::string::npos) << line;
      EXPECT_EQ(line[arrow - 1], ' ') << line;
      arrow_at.insert(arrow);
    }
  }
  EXPECT_GE(sysctl_rows, 4u) << t;
  EXPECT_GE(rows, 10u) << t;
  EXPECT_EQ(state_at.size(), 1u) << "the state column is not aligned:\n" << t;
  EXPECT_EQ(arrow_at.size(), 1u) << "the planned values are not aligned:\n" << t;
  EXPECT_EQ(*state_at.begin(), 2 + widest_name + 2) << "no wider than needed:\n" << t;
}

TEST(StatusDrift, SaysWhoLikelyChangedIt) {
  Rig r("linux6.1-striped");
  Status st = r.status();
  // Holds s in st's journal too, beside what it held.
  std::vector<JournalEntry> held;
  const auto journal = [&held](Status& status, const Setting& s) {
    held.emplace_back(s, SharedText());
    status.journal_targets = JournalTargets(held);
  };
  Setting s;
  s.action = Action::Write;
  static_cast<Target&>(s) = Target{SettingKind::Xps, "eth0", 0, 0, nullptr};
  EXPECT_EQ(s.path(), "sys/class/net/eth0/queues/tx-0/xps_cpus");
  EXPECT_EQ(drift_cause(st, s), "not applied yet");
  journal(st, s);
  EXPECT_NE(drift_cause(st, s).find("driver"), std::string::npos);
  s.nic = "eth9";  // not a virtio_net NIC: no driver to blame
  journal(st, s);
  EXPECT_NE(drift_cause(st, s).find("something else"), std::string::npos);
  static_cast<Target&>(s) = Target{SettingKind::Channels, "eth0", -1, 0, nullptr};
  EXPECT_EQ(s.path(), "ethtool:eth0:channels");
  journal(st, s);
  EXPECT_NE(drift_cause(st, s).find("channels changed"), std::string::npos);
  static_cast<Target&>(s) = Target{SettingKind::Sysctl, "", -1, 0, find_sysctl_row("netdev_budget")};
  EXPECT_EQ(s.path(), "proc/sys/net/core/netdev_budget");
  journal(st, s);
  EXPECT_NE(drift_cause(st, s).find("something else"), std::string::npos);
  s.action = Action::Keep;
  EXPECT_EQ(drift_cause(st, s), "");

  // RHEL 8.1 has xps_rxqs but not the driver that rewrites XPS: its drift is not the driver's.
  Rig el81("rhel8.1-xps_rxqs-8vcpu-4-queues");
  Status st81 = el81.status();
  s.action = Action::Write;
  static_cast<Target&>(s) = Target{SettingKind::Xps, "eth0", 0, 0, nullptr};
  EXPECT_EQ(s.path(), "sys/class/net/eth0/queues/tx-0/xps_cpus");
  journal(st81, s);
  EXPECT_EQ(st81.facts.behaviour, DriverBehaviour::XpsOnlyWhenEqual);
  EXPECT_NE(drift_cause(st81, s).find("something else"), std::string::npos) << drift_cause(st81, s);
}

TEST(LoadTiers, FollowTheSourceMethodology) {
  struct Case {
    double pps;
    const char* tier;
    Profile active;
    bool fits;
  } cases[] = {{50e3, "idle", Profile::Throughput, true},   {250e3, "balanced", Profile::Observe, false},
               {250e3, "balanced", Profile::Latency, true}, {1.5e6, "throughput", Profile::Balanced, false},
               {1.5e6, "throughput", Profile::Throughput, true}, {4e6, "sriov", Profile::Throughput, true}};
  for (const auto& c : cases) {
    LoadSample l;
    l.peak_pps = c.pps;
    classify_load(l, c.active);
    EXPECT_EQ(l.tier, c.tier) << c.pps;
    EXPECT_EQ(l.profile_fits, c.fits) << c.pps << " " << to_string(c.active);
  }
  LoadSample big;
  big.peak_pps = 4e6;
  classify_load(big, Profile::Throughput);
  EXPECT_NE(big.recommendation.find("SR-IOV"), std::string::npos);
}

TEST(LoadSample, PerQueueCounterNamesOfBothEras) {
  const std::vector<std::pair<std::string, uint64_t>> old_names = {
      {"rx_queue_0_packets", 10}, {"rx_queue_1_packets", 11}, {"tx_queue_0_packets", 20},
      {"tx_queue_0_bytes", 999}, {"tx_queue_1_packets", 21}, {"tx_queue_x_packets", 5}};
  const std::vector<std::pair<std::string, uint64_t>> new_names = {
      {"rx0_packets", 10}, {"tx0_packets", 20}, {"tx1_packets", 21}, {"tx1_bytes", 7}, {"tx_packets", 41}};
  EXPECT_EQ(queue_packets(old_names, true), (std::map<unsigned, uint64_t>{{0, 20}, {1, 21}}));
  EXPECT_EQ(queue_packets(old_names, false), (std::map<unsigned, uint64_t>{{0, 10}, {1, 11}}));
  EXPECT_EQ(queue_packets(new_names, true), (std::map<unsigned, uint64_t>{{0, 20}, {1, 21}}));
  EXPECT_EQ(queue_packets(new_names, false), (std::map<unsigned, uint64_t>{{0, 10}}));
}

std::vector<Finding> check_fixture(Fixture f, Policy policy = {}) {
  TempDir d;
  f.write(d.path());
  const Facts facts = probe_snapshot(d.path(), policy);
  const Plan plan = make_plan(facts, policy);
  SysRoot root(d.path());
  SnapshotEthtool eth(root);
  return run_checks(facts, plan, selected_nics(facts, policy), eth, count_iptables_rules(root), std::nullopt);
}

const Finding* find(const std::vector<Finding>& fs, const std::string& id) {
  for (const auto& f : fs)
    if (f.id == id) return &f;
  return nullptr;
}

TEST(Checks, HostQueuesIrqbalanceOldDriverMitigations) {
  const auto wide = check_fixture(named_fixtures().at("cpus-288"));
  const Finding* q = find(wide, "host-queues");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->severity, Severity::Warning);
  EXPECT_NE(q->evidence.find("64 queue pair(s) for 288"), std::string::npos) << q->evidence;
  EXPECT_NE(q->what_to_do.find("queues=288"), std::string::npos);
  EXPECT_EQ(find(check_fixture(named_fixtures().at("linux6.1-striped")), "host-queues"), nullptr);

  Fixture irq = named_fixtures().at("rhel8.0-9vcpu-4-queues");
  irq.irqbalance = true;
  irq.mitigations = {"spectre_v2", "mds"};
  const auto fs = check_fixture(irq);
  ASSERT_NE(find(fs, "irqbalance"), nullptr);
  EXPECT_EQ(find(fs, "irqbalance")->severity, Severity::Warning);
  ASSERT_NE(find(fs, "mitigations"), nullptr);
  EXPECT_NE(find(fs, "mitigations")->evidence.find("mds, spectre_v2"), std::string::npos);
  const auto old = check_fixture(named_fixtures().at("rhel7.4-combined-1-of-8"));
  ASSERT_NE(find(old, "driver-ignores-xps"), nullptr);
  EXPECT_EQ(find(old, "driver-ignores-xps")->severity, Severity::Info);
  EXPECT_EQ(find(old, "mitigations"), nullptr);
  EXPECT_EQ(findings_json(fs).size(), fs.size());
}

TEST(Checks, LargeRuleSetsWarnOnlyUnderLoad) {
  TempDir d;
  named_fixtures().at("linux6.1-striped").write(d.path());
  const Facts facts = probe_snapshot(d.path());
  const Plan plan = make_plan(facts, {});
  SysRoot root(d.path());
  SnapshotEthtool eth(root);
  RuleCounts rules;
  rules.tables = {{"nftables filter", 900}, {"iptables-legacy nat", 300}};
  const auto idle = run_checks(facts, plan, {"eth0"}, eth, rules, std::nullopt);
  ASSERT_NE(find(idle, "filter-rules"), nullptr);
  EXPECT_EQ(find(idle, "filter-rules")->severity, Severity::Info);
  EXPECT_NE(find(idle, "filter-rules")->evidence.find("1200 packet filter rules"), std::string::npos);
  LoadSample busy;
  busy.peak_pps = 400e3;
  const auto loaded = run_checks(facts, plan, {"eth0"}, eth, rules, busy);
  EXPECT_EQ(find(loaded, "filter-rules")->severity, Severity::Warning);
  rules.tables = {{"nftables filter", 999}};
  EXPECT_EQ(find(run_checks(facts, plan, {"eth0"}, eth, rules, busy), "filter-rules"), nullptr);
  EXPECT_EQ(count_iptables_rules(root).unavailable, "rule counts are not in snapshots");
}

}  // namespace
}  // namespace gn::test
