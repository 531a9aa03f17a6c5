// Apply and revert on snapshots, with a fault-injecting writer for what a real kernel will not
// do on demand: a refused write, EINVAL, EOVERFLOW from a wrong group count, a managed IRQ.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "apply.h"
#include "durable_file.h"
#include "fixture.h"
#include "journal_entry.h"
#include "plan_helpers.h"
#include "tempdir.h"

namespace gn::test {
namespace {

namespace fs = std::filesystem;

// Fails writes whose target contains a given text, and (strict) refuses masks with a group
// count other than the file's, as the 5.15+ parser does with EOVERFLOW.
class FaultyWriter : public SysWriter {
 public:
  explicit FaultyWriter(const SysRoot& root) : root_(root), real_(root) {}
  std::map<std::string, int> fail_on;  // substring of target → errno
  // Substring of target → the writes to it that succeed before every later one fails (EIO): a
  // file that takes apply's write and refuses the rollback's.
  std::map<std::string, int> fail_after;
  bool strict_groups = true;
  std::vector<std::string> written;

  Result<void> write(const std::string& rel, const std::string& text) override {
    for (const auto& [needle, err] : fail_on)
      if (rel.find(needle) != std::string::npos) return make_error(root_.display(rel), "injected failure", {}, err);
    for (auto& [needle, left] : fail_after)
      if (rel.find(needle) != std::string::npos && left-- <= 0)
        return make_error(root_.display(rel), "injected failure", {}, EIO);
    if (strict_groups && (rel.find("_cpus") != std::string::npos || rel.find("smp_affinity") != std::string::npos)) {
      auto cur = root_.read(rel);
      const auto groups = [](const std::string& s) { return std::count(s.begin(), s.end(), ','); };
      if (cur && groups(*cur) != groups(text)) return make_error(root_.display(rel), "wrong group count", {}, EOVERFLOW);
    }
    written.push_back(rel);
    return real_.write(rel, text);
  }

 private:
  const SysRoot& root_;
  RootWriter real_;
};

// Every file of the snapshot (kernel side only) with its content, for byte-for-byte comparison.
std::map<std::string, std::string> dump(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (rel.rfind("var", 0) == 0 || rel.rfind("run", 0) == 0 || rel.rfind("state", 0) == 0) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) out[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_regular_file()) out[rel] = read_text(it->path().string());
    else if (it->is_directory()) out[rel + "/"] = "";
  }
  return out;
}

// The paths whose content differs, for a readable failure.
std::string differences(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [k, v] : a)
    if (!b.count(k) || b.at(k) != v) out += k + ": '" + v + "' vs '" + (b.count(k) ? b.at(k) : "<missing>") + "'\n";
  for (const auto& [k, v] : b)
    if (!a.count(k)) out += k + ": <missing> vs '" + v + "'\n";
  return out;
}

// After eth0 was rolled back: the report holds none of its writes, and its files and channels
// are as `before` (a dump of the snapshot) had them.
void expect_eth0_as_before(const ApplyReport& r, const std::string& dir, const std::map<std::string, std::string>& before) {
  for (const auto& w : r.writes) EXPECT_NE(w.setting->nic, "eth0") << w.setting->path();
  const auto now = dump(dir);
  for (const auto& [path, content] : before)
    if (path.find("net/eth0/") != std::string::npos || path.find("ethtool/eth0") != std::string::npos) {
      EXPECT_EQ(now.count(path) ? now.at(path) : "<missing>", content) << path;
    }
}

struct Rig {
  explicit Rig(const std::string& fixture, Policy p = {}) : policy(std::move(p)) {
    named_fixtures().at(fixture).write(dir.path());
  }
  // Through `ethtool` when given (the snapshot's otherwise), the plan first reshaped when asked.
  Result<ApplyReport> apply(bool dry_run = false, EthtoolIo* ethtool = nullptr,
                            const std::function<void(Plan&)>& reshape = {}) {
    SysRoot root(dir.path());
    SnapshotEthtool snapshot_eth(root);
    EthtoolIo& eth = ethtool ? *ethtool : snapshot_eth;
    std::optional<Facts> f = probe_snapshot(dir.path(), policy);
    // The report points into its plan: every plan stays as long as the rig.
    Plan& plan = plans.emplace_back(make_plan(*f, policy));
    if (reshape) reshape(plan);
    auto j = Journal::load(dir / "state");
    if (!j) return j.error();
    journal = std::move(*j);
    FaultyWriter w(root);
    w.fail_on = fail_on;
    w.fail_after = fail_after;
    // The Facts go when apply says it is done with them, as the command's go: every test of
    // apply runs without them from there on.
    const auto facts_done = [&] {
      ++facts_let_go;
      journal_saved_when_facts_went = fs::exists(dir / "state/journal.json");
      f.reset();
    };
    ApplyContext ctx{root, eth, w, dry_run ? nullptr : &*journal, f->cpus.online, dry_run, &*f, facts_done};
    auto r = apply_plan(plan, ctx);
    writes_seen = w.written;
    return r;
  }
  Result<RevertReport> revert(std::vector<std::string> nics = {}) {
    SysRoot root(dir.path());
    SnapshotEthtool eth(root);
    auto j = Journal::load(dir / "state");
    if (!j) return j.error();
    FaultyWriter w(root);
    w.fail_on = fail_on;
    w.strict_groups = false;
    ApplyContext ctx{root, eth, w, &*j, {}, false};
    auto r = revert_journal(*j, nics, ctx);
    journal = std::move(*j);
    return r;
  }
  TempDir dir;
  Policy policy;
  std::map<std::string, int> fail_on;
  std::map<std::string, int> fail_after;  // see FaultyWriter
  std::optional<Journal> journal;
  std::vector<std::string> writes_seen;
  std::deque<Plan> plans;
  int facts_let_go = 0;  // times apply said it was done with the Facts
  bool journal_saved_when_facts_went = false;
};

// Apply lets the probe's Facts go once it has read what differs, before the journal's save and
// the writes (a wide guest's are more than a megabyte at apply's peak): a channel change, which
// journals the queue files the Facts hold, is undone whole by revert all the same.
TEST(Apply, LetsTheFactsGoBeforeTheJournalsSaveAndRevertStillRestoresEveryByte) {
  Rig rig("rhel7.4-combined-1-of-8");
  const auto before = dump(rig.dir.path());
  auto r = rig.apply();
  ASSERT_TRUE(r.ok()) << r.error().text();
  EXPECT_TRUE(r->errors.empty()) << r->errors.front().error;
  EXPECT_EQ(rig.facts_let_go, 1);
  EXPECT_FALSE(rig.journal_saved_when_facts_went) << "the Facts were kept past the journal's save";
  ASSERT_TRUE(std::any_of(r->writes.begin(), r->writes.end(),
                          [](const PlannedWrite& w) { return w.setting->kind == SettingKind::Channels; }))
      << "the fixture changes channels";
  ASSERT_TRUE(fs::exists(rig.dir / "state/journal.json"));
  rig.facts_let_go = 0;
  ASSERT_TRUE(rig.apply(/*dry_run=*/true).ok());
  EXPECT_EQ(rig.facts_let_go, 1) << "a dry run lets them go too";
  auto rev = rig.revert();
  ASSERT_TRUE(rev.ok()) << rev.error().text();
  EXPECT_TRUE(rev->errors.empty());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

TEST(Apply, WritesThePlanThenNothingThenRevertRestoresEveryByte) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  const auto before = dump(rig.dir.path());
  auto first = rig.apply();
  ASSERT_TRUE(first.ok()) << first.error().text();
  EXPECT_TRUE(first->errors.empty());
  EXPECT_EQ(first->writes.size(), 25u);
  EXPECT_EQ(read_text(rig.dir / "sys/class/net/eth0/queues/tx-1/xps_cpus"), "018\n");
  auto second = rig.apply();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->writes.size(), 0u);
  EXPECT_EQ(rig.writes_seen.size(), 0u);
  auto rev = rig.revert();
  ASSERT_TRUE(rev.ok());
  EXPECT_TRUE(rev->errors.empty());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
  EXPECT_TRUE(rig.journal->entries().empty());
}

TEST(Apply, ChannelsFirstThenNewQueuesAndRevertRemovesThem) {
  Rig rig("rhel7.4-combined-1-of-8");
  const auto before = dump(rig.dir.path());
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->writes.empty());
  EXPECT_EQ(r->writes.front().setting->path(), "ethtool:eth0:channels");
  EXPECT_TRUE(fs::exists(rig.dir / "sys/class/net/eth0/queues/tx-7"));
  ASSERT_TRUE(rig.revert().ok());
  EXPECT_FALSE(fs::exists(rig.dir / "sys/class/net/eth0/queues/tx-7"));
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

// The snapshot's channels, and what the 4.19+ driver does on a channel change: it rewrites XPS
// (here one file's, `target`, to `xps`).
class XpsRewritingEthtool : public SnapshotEthtool {
 public:
  explicit XpsRewritingEthtool(const SysRoot& root) : SnapshotEthtool(root), root_(root) {}
  std::string target, xps;
  Result<void> set_channels(const std::string& name, const Channels& want) override {
    if (auto r = SnapshotEthtool::set_channels(name, want); !r) return r;
    return root_.write(target, xps);
  }

 private:
  const SysRoot& root_;
};

TEST(Apply, KeptTargetsGiveTheSameBytesAndAChannelChangeIsReadAgain) {
  // One open per target (the probe keeps what it reads for apply) ends where fresh reads do;
  // after a channel change every file is read again, so what the driver wrote is seen.
  Rig fresh("isolated-cpus");
  ASSERT_TRUE(fresh.apply().ok());
  Rig rig("isolated-cpus");
  const SysRoot root(rig.dir.path());
  root.keep_targets(4096);
  XpsRewritingEthtool eth(root);
  auto f = probe(root, eth, ProbeOptions{rig.policy.drivers});
  ASSERT_TRUE(f.ok()) << f.error().text();
  EXPECT_GT(root.kept_targets(), 0u);
  const Plan plan = make_plan(*f, rig.policy);
  std::string nic;
  for (const auto& s : plan.settings)
    if (s.kind == SettingKind::Xps && s.action == Action::Write && eth.target.empty())
      nic = s.nic, eth.xps = s.desired.text(), eth.target = s.path();
  const std::string& rewritten = eth.target;
  ASSERT_FALSE(rewritten.empty()) << "the fixture plans an XPS write";
  auto j = Journal::load(rig.dir / "state");
  ASSERT_TRUE(j.ok());
  RootWriter w(root);
  ApplyContext ctx{root, eth, w, &*j, f->cpus.online, false, &*f};
  auto r = apply_plan(plan, ctx);
  ASSERT_TRUE(r.ok()) << r.error().text();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(r->writes.front().setting->path(), "ethtool:" + nic + ":channels");
  EXPECT_NE(std::find(r->unchanged.begin(), r->unchanged.end(), rewritten), r->unchanged.end())
      << rewritten << " held the driver's value when apply came to it";
  for (const auto& wr : r->writes) EXPECT_NE(wr.setting->path(), rewritten);
  EXPECT_EQ(differences(dump(rig.dir.path()), dump(fresh.dir.path())), "");
}

TEST(Apply, ARefusedWriteRollsBackThatNicOnlyInReverseOrder) {
  Rig rig("bond-over-virtio");
  const auto before = dump(rig.dir.path());
  rig.fail_on["eth0/queues/tx-2/xps_cpus"] = EACCES;
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].nic, "eth0");
  EXPECT_NE(r->errors[0].error.find("tx-2/xps_cpus"), std::string::npos) << r->errors[0].error;
  EXPECT_EQ(r->errors[0].hint, "run as root");
  EXPECT_EQ(r->failed_nics, std::vector<std::string>{"eth0"});
  // eth0's earlier writes (RPS none, tx-0, tx-1) were undone, newest first.
  ASSERT_GE(r->rolled_back.size(), 2u);
  EXPECT_NE(r->rolled_back[0].target.find("tx-1"), std::string::npos);
  EXPECT_NE(r->rolled_back[1].target.find("tx-0"), std::string::npos);
  const auto now = dump(rig.dir.path());
  for (const auto& [path, content] : before)
    if (path.find("net/eth0/") != std::string::npos) {
      EXPECT_EQ(now.at(path), content) << path;
    }
  // eth1 and the sysctls went ahead.
  EXPECT_EQ(read_text(rig.dir / "sys/class/net/eth1/queues/tx-3/xps_cpus"), "8\n");
  EXPECT_EQ(read_text(rig.dir / "proc/sys/net/core/netdev_budget"), "50000\n");
  for (const auto& w : r->writes) EXPECT_NE(w.setting->nic, "eth0") << w.setting->path();
}

TEST(Apply, AFailureAfterAChannelChangeRestoresTheChannels) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  rig.policy.channel_cap = 2;
  const auto before = dump(rig.dir.path());
  rig.fail_on["tx-1/xps_cpus"] = EINVAL;
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(SnapshotEthtool(SysRoot(rig.dir.path())).channels("eth0")->combined, 4u);
  // Newest first: tx-0's mask (the write before the refused one) first, the channels last; none
  // of them is left among the writes.
  ASSERT_GE(r->rolled_back.size(), 2u);
  EXPECT_NE(r->rolled_back.front().target.find("tx-0/xps_cpus"), std::string::npos) << r->rolled_back.front().target;
  EXPECT_EQ(r->rolled_back.back().target, "ethtool:eth0:channels");
  expect_eth0_as_before(*r, rig.dir.path(), before);
}

// A rollback that cannot restore a file says so, and the write stays among the writes (it is in
// force): only what was undone is reported as rolled back.
TEST(Apply, AFileThatRefusesItsRollbackStaysWrittenAndIsAnError) {
  Rig rig("bond-over-virtio");
  const std::string tx0 = "sys/class/net/eth0/queues/tx-0/xps_cpus";
  const std::string original = read_text(rig.dir / tx0);
  rig.fail_on["eth0/queues/tx-2/xps_cpus"] = EACCES;
  rig.fail_after["eth0/queues/tx-0/xps_cpus"] = 1;
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[1].target, tx0);
  EXPECT_EQ(r->errors[1].error.rfind("rolling back: ", 0), 0u) << r->errors[1].error;
  EXPECT_NE(r->errors[1].hint.find("revert"), std::string::npos) << r->errors[1].hint;
  std::vector<std::string> eth0_writes;
  for (const auto& w : r->writes)
    if (w.setting->nic == "eth0") eth0_writes.push_back(w.setting->path());
  EXPECT_EQ(eth0_writes, std::vector<std::string>{tx0});
  for (const auto& w : r->writes)
    if (w.setting->path() == tx0) {
      EXPECT_EQ(std::string(w.from()) + "\n", original);
    }
  for (const auto& b : r->rolled_back) EXPECT_NE(b.target, tx0);
  EXPECT_NE(std::find_if(r->rolled_back.begin(), r->rolled_back.end(),
                         [](const WriteRecord& b) { return b.target.find("eth0/queues/tx-1/") != std::string::npos; }),
            r->rolled_back.end())
      << "the writes after it are undone";
  EXPECT_NE(read_text(rig.dir / tx0), original) << "tx-0 still holds what apply wrote";
}

// The driver takes a channel change and then reports other counts: the change is undone before
// any queue file is written.
class MisreportingEthtool : public SnapshotEthtool {
 public:
  using SnapshotEthtool::SnapshotEthtool;
  Result<void> set_channels(const std::string& name, const Channels& want) override {
    misreport_ = !misreport_ && sets_++ == 0;  // only the read right after the first change
    return SnapshotEthtool::set_channels(name, want);
  }
  Result<Channels> channels(const std::string& name) override {
    auto c = SnapshotEthtool::channels(name);
    if (c && misreport_) {
      misreport_ = false;
      ++c->combined;
    }
    return c;
  }

 private:
  bool misreport_ = false;
  int sets_ = 0;
};

TEST(Apply, ChannelsThatReadBackOtherwiseAreUndone) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  rig.policy.channel_cap = 2;
  const auto before = dump(rig.dir.path());
  SysRoot root(rig.dir.path());
  MisreportingEthtool eth(root);
  auto r = rig.apply(false, &eth);
  ASSERT_TRUE(r.ok()) << r.error().text();
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_NE(r->errors[0].error.find("channels read back as combined 3 after setting combined 2"), std::string::npos)
      << r->errors[0].error;
  ASSERT_EQ(r->rolled_back.size(), 1u);
  EXPECT_EQ(r->rolled_back[0].target, "ethtool:eth0:channels");
  EXPECT_EQ(SnapshotEthtool(SysRoot(rig.dir.path())).channels("eth0")->combined, 4u);
  expect_eth0_as_before(*r, rig.dir.path(), before);
}

// A dry run with a channel change: the channels first, then the NIC's files, nothing written.
TEST(Apply, ADryRunWithAChannelChangeListsTheChannelsFirstAndWritesNothing) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  rig.policy.channel_cap = 2;
  const auto before = dump(rig.dir.path());
  auto r = rig.apply(/*dry_run=*/true);
  ASSERT_TRUE(r.ok());
  ASSERT_GT(r->writes.size(), 1u);
  EXPECT_EQ(r->writes.front().setting->path(), "ethtool:eth0:channels");
  EXPECT_EQ(r->writes.front().to(true), "combined 2");
  // Then each of eth0's files the plan writes, in plan order.
  std::vector<std::string> planned, listed;
  for (const auto& st : rig.plans.back().settings)
    if (st.nic == "eth0" && st.action == Action::Write && st.kind != SettingKind::Channels) planned.push_back(st.path());
  for (size_t i = 1; i < r->writes.size(); ++i)
    if (r->writes[i].setting->nic == "eth0") listed.push_back(r->writes[i].setting->path());
  EXPECT_FALSE(planned.empty());
  EXPECT_EQ(listed, planned);
  EXPECT_TRUE(rig.writes_seen.empty());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

// Apply groups a plan's settings by NIC itself: with the sysctls first and two NICs' settings
// dealt alternately, each NIC is still written as one run (so a rollback covers it whole), the
// sysctls last, and the files end as the plan in its own order leaves them.
TEST(Apply, EachNicIsWrittenAsOneRunWhereverThePlanPutsItsSettings) {
  Rig rig("bond-over-virtio"), in_order("bond-over-virtio");
  ASSERT_TRUE(in_order.apply().ok());
  std::string first, second;
  auto r = rig.apply(false, nullptr, [&](Plan& plan) {
    first = plan.settings.front().nic.str();
    std::vector<Setting> sysctls, a, b;
    for (auto& st : plan.settings) (st.nic.empty() ? sysctls : st.nic == first ? a : b).push_back(std::move(st));
    ASSERT_FALSE(sysctls.empty());
    ASSERT_FALSE(b.empty());
    second = b.front().nic.str();
    plan.settings = std::move(sysctls);
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      if (i < a.size()) plan.settings.push_back(std::move(a[i]));
      if (i < b.size()) plan.settings.push_back(std::move(b[i]));
    }
  });
  ASSERT_TRUE(r.ok()) << r.error().text();
  ASSERT_FALSE(second.empty());
  EXPECT_TRUE(r->errors.empty());
  std::vector<std::string> runs;  // the NIC of each run of writes
  for (const auto& wr : r->writes)
    if (runs.empty() || runs.back() != wr.setting->nic.str()) runs.push_back(wr.setting->nic.str());
  EXPECT_EQ(runs, (std::vector<std::string>{first, second, ""}));
  EXPECT_EQ(differences(dump(rig.dir.path()), dump(in_order.dir.path())), "");
}

// A file the probe could not read (its NIC removed as the probe read it) has no original to
// journal: that NIC is left alone and reported, and the journal stays one that loads.
TEST(Apply, AWriteWithoutAnOriginalLeavesItsNicAloneAndTheJournalLoadable) {
  Rig rig("bond-over-virtio");
  const auto before = dump(rig.dir.path());
  std::string target;
  auto r = rig.apply(false, nullptr, [&](Plan& plan) {
    Setting* last = nullptr;  // eth0's last write: the ones before it were journalled already
    for (auto& st : plan.settings)
      if (st.nic == "eth0" && st.action == Action::Write && st.kind != SettingKind::Channels) last = &st;
    if (!last) return;
    last->current = SharedText();
    target = last->path();
  });
  ASSERT_TRUE(r.ok()) << r.error().text();
  ASSERT_FALSE(target.empty()) << "the fixture plans a write on eth0";
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].nic, "eth0");
  EXPECT_NE(r->errors[0].error.find("could not be read when probed"), std::string::npos) << r->errors[0].error;
  EXPECT_EQ(r->failed_nics, std::vector<std::string>{"eth0"});
  expect_eth0_as_before(*r, rig.dir.path(), before);
  auto j = Journal::load(rig.dir / "state");
  ASSERT_TRUE(j.ok()) << j.error().text();
  for (const auto& e : j->entries()) EXPECT_NE(e.nic, "eth0") << e.path();
  EXPECT_FALSE(j->entries().empty()) << "the other NIC and the sysctls were journalled";
}

TEST(Apply, EinvalOnASysctlRollsBackTheSysctls) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  rig.fail_on["netdev_max_backlog"] = EINVAL;
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(read_text(rig.dir / "proc/sys/net/core/dev_weight"), "64\n");
  EXPECT_EQ(read_text(rig.dir / "proc/sys/net/core/netdev_budget"), "300\n");
  EXPECT_EQ(read_text(rig.dir / "sys/class/net/eth0/queues/tx-0/xps_cpus"), "007\n") << "NICs are not rolled back";
  // The report agrees: the sysctls undone, eth0's writes (made before them) still there.
  ASSERT_FALSE(r->rolled_back.empty());
  for (const auto& b : r->rolled_back) EXPECT_TRUE(b.nic.empty()) << b.target;
  EXPECT_NE(std::find_if(r->writes.begin(), r->writes.end(),
                         [](const PlannedWrite& w) { return w.setting->path() == "sys/class/net/eth0/queues/tx-0/xps_cpus"; }),
            r->writes.end());
  for (const auto& w : r->writes) EXPECT_FALSE(w.setting->nic.empty()) << w.setting->path();
}

TEST(Apply, MasksKeepTheFilesGroupCountOn288Cpus) {
  Rig rig("cpus-288");
  auto r = rig.apply();  // the strict writer refuses any other group count with EOVERFLOW
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->errors.empty()) << r->errors[0].error;
  EXPECT_GT(r->writes.size(), 64u);
  // The fake does refuse a wrong count, so the check above means something.
  SysRoot root(rig.dir.path());
  FaultyWriter w(root);
  auto bad = w.write("sys/class/net/eth0/queues/tx-0/xps_cpus", "1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EOVERFLOW);
}

TEST(Apply, AKernelManagedIrqIsNotApplicableNotAnError) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  rig.fail_on["smp_affinity"] = EIO;
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->errors.empty());
  unsigned managed = 0;
  for (const auto& s : r->not_applicable) managed += s.why.find("kernel-managed") != std::string::npos;
  EXPECT_EQ(managed, 8u);
}

TEST(Apply, LatencyWritesXpsRxqsAndRevertRestoresIt) {
  Policy latency;
  latency.profile = Profile::Latency;
  Rig rig("linux6.1-striped", latency);
  const auto before = dump(rig.dir.path());
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->errors.empty()) << r->errors[0].error;
  for (unsigned q = 0; q < 4; ++q)
    EXPECT_EQ(read_text(rig.dir / ("sys/class/net/eth0/queues/tx-" + std::to_string(q) + "/xps_rxqs")),
              std::string(1, "1248"[q]) + "\n");
  unsigned journalled = 0;
  for (const auto& e : rig.journal->entries()) journalled += e.kind == SettingKind::XpsRxqs;
  EXPECT_EQ(journalled, 4u);
  ASSERT_TRUE(rig.revert().ok());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

TEST(Apply, OfflineCpusAndRevert) {
  Rig rig("offline-cpus");
  const auto before = dump(rig.dir.path());
  auto r = rig.apply();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->errors.empty());
  ASSERT_TRUE(rig.revert().ok());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

TEST(Apply, DryRunWritesNothing) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  const auto before = dump(rig.dir.path());
  auto r = rig.apply(/*dry_run=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->writes.size(), 25u);
  EXPECT_TRUE(rig.writes_seen.empty());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
  EXPECT_FALSE(fs::exists(rig.dir / "state/journal.json"));
}

TEST(Journal, FirstOriginalWinsAcrossProfilesAndRevertRestoresIt) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  const auto before = dump(rig.dir.path());
  rig.policy.profile = Profile::Latency;
  ASSERT_TRUE(rig.apply().ok());
  rig.policy.profile = Profile::Throughput;
  rig.policy.channel_cap = 3;
  ASSERT_TRUE(rig.apply().ok());
  rig.policy.channel_cap.reset();
  rig.policy.sysctl_overrides["net.core.netdev_budget"] = 777;
  ASSERT_TRUE(rig.apply().ok());
  for (const auto& e : rig.journal->entries())
    if (e.path() == "proc/sys/net/core/netdev_budget") {
      EXPECT_EQ(e.original, "300");
    }
  ASSERT_TRUE(rig.revert().ok());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

// Apply journals each original as the probe read it, sharing the probe's copy of the text (no
// second copy of every mask); the journal keeps it after the Facts and the plan are gone.
TEST(Journal, OriginalsShareTheProbesTextsAndOutliveThem) {
  for (const char* fixture : {"rhel8.0-9vcpu-4-queues", "rhel7.4-combined-1-of-8"}) {  // without and with a channel change
    Rig rig(fixture);
    std::map<std::string, std::string> before;  // copies, made by a probe of their own
    {
      const Facts f0 = probe_snapshot(rig.dir.path(), rig.policy);
      for (const auto& [path, file] : files_read(f0))
        if (file->readable()) before[path] = *file->text;
    }
    std::optional<Journal> journal;
    size_t shared = 0;
    {
      SysRoot root(rig.dir.path());
      SnapshotEthtool eth(root);
      const Facts f = probe_snapshot(rig.dir.path(), rig.policy);
      const Plan plan = make_plan(f, rig.policy);
      auto j = Journal::load(rig.dir / "state");
      ASSERT_TRUE(j.ok()) << j.error().text();
      journal = std::move(*j);
      RootWriter w(root);
      ApplyContext ctx{root, eth, w, &*journal, f.cpus.online, false, &f};
      auto r = apply_plan(plan, ctx);
      ASSERT_TRUE(r.ok()) << r.error().text();
      ASSERT_TRUE(r->errors.empty()) << r->errors.front().error;
      const auto files = files_read(f);
      for (const auto& e : journal->entries()) {
        if (e.kind == SettingKind::Channels) continue;
        ASSERT_TRUE(files.count(e.path())) << fixture << ": " << e.path() << " was journalled but never read";
        EXPECT_TRUE(e.original.same_copy(SharedText(files.at(e.path())->text))) << fixture << ": " << e.path();
        ++shared;
      }
    }
    EXPECT_GT(shared, 10u) << fixture;
    // The Facts and the plan are gone: each original is still what its file held before apply.
    for (const auto& e : journal->entries()) {
      if (e.kind == SettingKind::Channels) continue;
      ASSERT_TRUE(before.count(e.path())) << e.path();
      EXPECT_EQ(e.original, before.at(e.path())) << fixture << ": " << e.path();
    }
    const auto saved = Journal::load(rig.dir / "state");
    ASSERT_TRUE(saved.ok()) << saved.error().text();
    ASSERT_EQ(saved->entries().size(), journal->entries().size());
    for (size_t i = 0; i < saved->entries().size(); ++i)
      EXPECT_EQ(saved->entries()[i].original, journal->entries()[i].original) << saved->entries()[i].path();
  }
}

// Paths of the journal's entries, as saved (but those of NIC `but`).
std::set<std::string> journalled(const Rig& rig, const std::string& but = "") {
  auto j = Journal::load(rig.dir / "state");
  EXPECT_TRUE(j.ok()) << j.error().text();
  std::set<std::string> paths;
  if (j)
    for (const auto& e : j->entries())
      if (but.empty() || e.nic != but) paths.insert(e.path());
  return paths;
}

TEST(Journal, RevertOneNicLeavesTheOthersAndTheSysctls) {
  Rig rig("bond-over-virtio");
  ASSERT_TRUE(rig.apply().ok());
  const std::set<std::string> others = journalled(rig, "eth1");
  ASSERT_FALSE(others.empty());
  ASSERT_NE(others, journalled(rig)) << "eth1 has entries";
  auto r = rig.revert({"eth1"});
  ASSERT_TRUE(r.ok());
  for (const auto& e : rig.journal->entries()) EXPECT_NE(e.nic, "eth1");
  EXPECT_EQ(journalled(rig), others) << "exactly eth1's entries were forgotten";
  EXPECT_EQ(SnapshotEthtool(SysRoot(rig.dir.path())).channels("eth1")->combined, 1u);
}

// A restore that fails keeps its entry (and only it): `revert` run again restores it.
TEST(Journal, AnEntryWhoseRestoreFailsStaysForTheNextRevert) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  const auto before = dump(rig.dir.path());
  ASSERT_TRUE(rig.apply().ok());
  rig.fail_on["queues/tx-1/xps_cpus"] = EIO;
  auto r = rig.revert();
  ASSERT_TRUE(r.ok()) << r.error().text();
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(journalled(rig), std::set<std::string>{"sys/class/net/eth0/queues/tx-1/xps_cpus"});
  rig.fail_on.clear();
  auto again = rig.revert();
  ASSERT_TRUE(again.ok()) << again.error().text();
  EXPECT_TRUE(again->errors.empty());
  EXPECT_EQ(again->writes.size(), 1u);
  EXPECT_TRUE(journalled(rig).empty());
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

TEST(Journal, ACorruptJournalIsAnErrorNamingItAndNothingIsWritten) {
  Rig rig("rhel8.0-9vcpu-4-queues");
  write_text(rig.dir / "state/journal.json", "{\"format\": 1, \"entries\": [tru");
  const auto before = dump(rig.dir.path());
  auto r = rig.apply();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().text().find("journal.json"), std::string::npos);
  EXPECT_EQ(differences(dump(rig.dir.path()), before), "");
}

TEST(Journal, RoundTripsAndIgnoresStaleTempFiles) {
  TempDir d;
  write_text(d / "journal.json.tmp.12345", "half a jou");
  auto j = Journal::load(d.path());
  ASSERT_TRUE(j.ok());
  EXPECT_FALSE(fs::exists(d / "journal.json.tmp.12345"));
  ASSERT_TRUE(j->record({journal_entry("ethtool:eth0:channels", SettingKind::Channels, "eth0", "rx 0 tx 0 other 0 combined 1"),
                         journal_entry("proc/sys/net/core/dev_weight", SettingKind::Sysctl, "", "64")})
                  .ok());
  ASSERT_TRUE(j->record({journal_entry("proc/sys/net/core/dev_weight", SettingKind::Sysctl, "", "6000")}).ok());
  auto again = Journal::load(d.path());
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->entries().size(), 2u);
  EXPECT_EQ(again->entries()[1].original, "64");
  EXPECT_EQ(again->entries()[0].kind, SettingKind::Channels);
  ASSERT_EQ(again->entries()[1].path(), "proc/sys/net/core/dev_weight");
  ASSERT_TRUE(again->forget({&again->entries()[1]}).ok());
  EXPECT_EQ(Journal::load(d.path())->entries().size(), 1u);
}

TEST(DurableFile, ReplacesAtomically) {
  TempDir d;
  ASSERT_TRUE(write_file_atomically(d / "a/b/status.json", "one\n").ok());
  ASSERT_TRUE(write_file_atomically(d / "a/b/status.json", "two\n").ok());
  EXPECT_EQ(read_text(d / "a/b/status.json"), "two\n");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(d / "a/b")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "no temp file left behind";
}

// A writer that throws half-way: the old content stays, no temp file is left, the error goes on.
TEST(DurableFile, AWriterThatThrowsLeavesTheOldFileAndNoTempFile) {
  TempDir d;
  ASSERT_TRUE(write_file_atomically(d / "s/journal.json", "old\n").ok());
  for (const bool durable : {true, false}) {
    const auto half_then_throw = [](std::ostream& os) {
      os << "half of a new";
      throw std::logic_error("renderer stopped");
    };
    if (durable)
      EXPECT_THROW((void)write_file_atomically(d / "s/journal.json", half_then_throw), std::logic_error);
    else
      EXPECT_THROW((void)replace_file(d / "s/journal.json", half_then_throw), std::logic_error);
    EXPECT_EQ(read_text(d / "s/journal.json"), "old\n");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(d / "s")) names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"journal.json"}) << (durable ? "durable" : "run directory");
  }
}

}  // namespace
}  // namespace gn::test
