// Snapshots: `capture` copies what the probe reads, and planning the copy gives the same plan.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "capture.h"
#include "fixture.h"
#include "plan_helpers.h"
#include "plan_render.h"
#include "tempdir.h"

namespace gn::test {
namespace {

std::string plan_text(const SysRoot& root, EthtoolIo& eth) {
  auto f = probe(root, eth, {});
  EXPECT_TRUE(f.ok()) << (f ? "" : f.error().text());
  if (!f) return {};
  return plan_json(*f, {}, make_plan(*f, {})).dump(2);
}

TEST(Capture, ThisMachinePlansTheSameFromItsSnapshot) {
  TempDir dir;
  const SysRoot live("/");
  IoctlEthtool eth;
  auto n = capture_snapshot(live, eth, {}, dir / "snap");
  ASSERT_TRUE(n.ok()) << n.error().text();
  EXPECT_GT(*n, 10u);
  const SysRoot snap(dir / "snap");
  SnapshotEthtool snap_eth(snap);
  const std::string from_live = plan_text(live, eth);
  ASSERT_FALSE(from_live.empty());
  EXPECT_EQ(plan_text(snap, snap_eth), from_live);
  // The ethtool values are in the documented per-NIC files.
  auto f = probe(snap, snap_eth, {});
  ASSERT_TRUE(f.ok());
  for (const auto& nic : f->nics) {
    if (nic.role != NicRole::Tunable) continue;
    EXPECT_TRUE(std::filesystem::exists(dir / ("snap/" + paths::kSnapshotEthtool + "/" + nic.name))) << nic.name;
  }
}

TEST(Capture, OfASnapshotIsTheSameSnapshot) {
  for (const char* name : {"bond-over-virtio", "single-queue", "rhel7.4-combined-1-of-8"}) {
    TempDir dir;
    named_fixtures().at(name).write(dir / "a");
    const SysRoot a(dir / "a");
    SnapshotEthtool eth_a(a);
    auto n = capture_snapshot(a, eth_a, {}, dir / "b");
    ASSERT_TRUE(n.ok()) << n.error().text();
    const SysRoot b(dir / "b");
    SnapshotEthtool eth_b(b);
    EXPECT_EQ(plan_text(a, eth_a), plan_text(b, eth_b)) << name;
  }
}

TEST(Capture, RefusesANonEmptyDestination) {
  TempDir dir;
  write_text(dir / "x/keep", "precious\n");
  const SysRoot live("/");
  IoctlEthtool eth;
  auto n = capture_snapshot(live, eth, {}, dir / "x");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().text().find("not empty"), std::string::npos);
  EXPECT_EQ(read_text(dir / "x/keep"), "precious\n");
}

TEST(SnapshotEthtool, ChannelChangesAddAndRemoveQueueDirectories) {
  TempDir dir;
  named_fixtures().at("rhel7.4-combined-1-of-8").write(dir.path());
  const SysRoot root(dir.path());
  SnapshotEthtool eth(root);
  auto c = eth.channels("eth0");
  ASSERT_TRUE(c.ok());
  Channels want = *c;
  want.combined = 4;
  ASSERT_TRUE(eth.set_channels("eth0", want).ok());
  EXPECT_EQ(eth.channels("eth0")->combined, 4u);
  const std::string q = paths::kNetClass + "/eth0/queues/";
  EXPECT_TRUE(root.exists(q + "tx-3/xps_cpus"));
  EXPECT_EQ(*root.read(q + "tx-3/xps_cpus"), "00\n") << "new queues start with an empty mask as wide as tx-0's";
  EXPECT_EQ(*root.read(q + "rx-3/rps_flow_cnt"), "0\n");
  want.combined = 2;
  ASSERT_TRUE(eth.set_channels("eth0", want).ok());
  EXPECT_FALSE(root.exists(q + "tx-2"));
  EXPECT_FALSE(root.exists(q + "rx-3"));
  want.combined = 9;  // above max
  auto r = eth.set_channels("eth0", want);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EINVAL);
}

TEST(SnapshotFiles, UnreadableFilesFailAsTheyDidWhenCaptured) {
  TempDir dir;
  named_fixtures().at("single-queue").write(dir.path());
  const SysRoot root(dir.path());
  auto r = root.read(paths::kNetClass + "/eth0/queues/tx-0/xps_cpus");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOENT);
  EXPECT_NE(r.error().target.find(dir.path()), std::string::npos) << "errors name the file under the root";
}

// The probe keeps one copy of each text it reads: files that hold the same text share it, and
// every file's text is still its own file's, whatever the others hold.
TEST(Probe, FilesThatHoldTheSameTextShareOneCopy) {
  TempDir dir;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(dir / "a");
  // Some files apart from the rest, two of them alike; some with white space to trim.
  write_text(dir / "a/sys/class/net/eth0/queues/tx-1/xps_cpus", "00000000,00000006\n");
  write_text(dir / "a/sys/class/net/eth0/queues/tx-2/xps_cpus", "00000000,00000006\n");
  write_text(dir / "a/sys/class/net/eth0/queues/tx-3/xps_cpus", "  00000000,00000018 \n");
  write_text(dir / "a/sys/class/net/eth0/queues/rx-0/rps_cpus", "00000000,00000006");
  const SysRoot a(dir / "a");
  SnapshotEthtool eth(a);
  auto f = probe(a, eth, {});
  ASSERT_TRUE(f.ok()) << f.error().text();
  // The files the fixture has (the others, such as xps_rxqs on this kernel, have no text).
  std::map<std::string, const SysFile*> files;
  for (const auto& [path, file] : files_read(*f))
    if (file->readable()) files[path] = file;
  ASSERT_GT(files.size(), 20u);
  size_t shared = 0;
  for (const auto& [path, file] : files) {
    EXPECT_EQ(*file->text, std::string(trim(read_text(dir / ("a/" + path))))) << path;
    for (const auto& [other_path, other] : files) {
      if (other == file) continue;
      const bool same_text = *other->text == *file->text;
      EXPECT_EQ(other->text.get() == file->text.get(), same_text) << path << " and " << other_path;
      shared += same_text;
    }
  }
  EXPECT_GT(shared, 0u) << "the fixture has files alike";
  const auto* tx = &f->find_nic("eth0")->tx;
  EXPECT_EQ(*(*tx)[1].file(SettingKind::Xps)->text, "00000000,00000006");
  EXPECT_EQ(*(*tx)[3].file(SettingKind::Xps)->text, "00000000,00000018");
}

// A queue past virtio-net's last (kMaxQueue) cannot be a target: the probe leaves that NIC
// alone, saying why, rather than plan a queue it would have to name as another; the other NICs
// are planned as ever. A number with more digits than any unsigned long is past the last like
// any other, not thrown out of the probe.
TEST(Probe, AQueuePastVirtioNetsLastLeavesItsNicAloneSayingWhy) {
  TempDir dir;
  named_fixtures().at("bond-over-virtio").write(dir.path());
  const std::string queues = dir / "sys/class/net/eth0/queues";
  // The probe's facts with eth0's rx-0 copied as the queue directory `name` (the last one gone).
  std::string last;
  const auto probe_with = [&](const std::string& name) {
    if (last.empty()) std::filesystem::copy(queues + "/rx-0", queues + "/" + name, std::filesystem::copy_options::recursive);
    else std::filesystem::rename(queues + "/" + last, queues + "/" + name);
    last = name;
    const SysRoot root(dir.path());
    SnapshotEthtool eth(root);
    return probe(root, eth, {});
  };
  {
    auto f = probe_with("rx-32767");
    ASSERT_TRUE(f.ok()) << f.error().text();
    EXPECT_EQ(f->find_nic("eth0")->role, NicRole::Tunable) << "queue 32767 is virtio-net's last";
    EXPECT_EQ(f->find_nic("eth0")->rx.back().index, 32767u);
  }
  {
    auto f = probe_with("rx-32768");
    ASSERT_TRUE(f.ok()) << f.error().text();
    const Nic* eth0 = f->find_nic("eth0");
    ASSERT_NE(eth0, nullptr);
    EXPECT_EQ(eth0->role, NicRole::Other);
    EXPECT_EQ(eth0->why, "queue rx-32768 is past 32767, virtio-net's last: left alone");
    EXPECT_TRUE(eth0->rx.empty() && eth0->tx.empty());
    EXPECT_EQ(f->find_nic("eth1")->role, NicRole::Tunable);
    const Plan p = make_plan(*f, Policy{});
    for (const auto& s : p.settings) EXPECT_NE(s.nic, "eth0") << s.path() << " planned on a NIC left alone";
    EXPECT_TRUE(std::any_of(p.settings.begin(), p.settings.end(), [](const Setting& s) { return s.nic == "eth1"; }));
  }
  auto f = probe_with("rx-99999999999999999999999");
  ASSERT_TRUE(f.ok()) << f.error().text();
  EXPECT_EQ(f->find_nic("eth0")->role, NicRole::Other);
  EXPECT_NE(f->find_nic("eth0")->why.find("rx-99999999999999999999999 is past 32767"), std::string::npos)
      << f->find_nic("eth0")->why;
}

// The IRQs come from /proc/interrupts, read once after the NICs: each NIC gets its own device's
// queue IRQs in the file's order, with their affinity; without the file the IRQs are unknown
// and the rest of the probe stands.
TEST(Probe, EachNicGetsItsOwnQueueIrqsAndNoneWithoutProcInterrupts) {
  TempDir dir;
  named_fixtures().at("bond-over-virtio").write(dir.path());
  {
    const SysRoot root(dir.path());
    SnapshotEthtool eth(root);
    auto f = probe(root, eth, {});
    ASSERT_TRUE(f.ok()) << f.error().text();
    // eth0: an input and an output IRQ for each of its 4 queues; eth1: one vector shared by its
    // queues (its config IRQ is not a queue's).
    for (const auto& [name, irqs] : std::map<std::string, size_t>{{"eth0", 8}, {"eth1", 1}}) {
      const Nic* n = f->find_nic(name);
      ASSERT_NE(n, nullptr) << name;
      ASSERT_EQ(n->irqs.size(), irqs) << name;
      for (size_t i = 1; i < n->irqs.size(); ++i) EXPECT_LT(n->irqs[i - 1].irq, n->irqs[i].irq) << "in the file's order";
      for (const auto& irq : n->irqs) {
        EXPECT_EQ(irq.name.rfind(n->virtio_device + "-", 0), 0u) << name << " got " << irq.name;
        EXPECT_TRUE(irq.smp_affinity.readable()) << irq.name;
        EXPECT_EQ(*irq.smp_affinity.text,
                  std::string(trim(read_text(dir / ("proc/irq/" + std::to_string(irq.irq) + "/smp_affinity")))));
      }
    }
    EXPECT_NE(f->find_nic("eth0")->virtio_device, f->find_nic("eth1")->virtio_device);
    EXPECT_EQ(f->find_nic("eth1")->irqs[0].role, IrqRole::Shared);
  }
  std::filesystem::remove(dir / "proc/interrupts");
  const SysRoot root(dir.path());
  SnapshotEthtool eth(root);
  auto f = probe(root, eth, {});
  ASSERT_TRUE(f.ok()) << f.error().text();
  ASSERT_NE(f->find_nic("eth0"), nullptr);
  EXPECT_TRUE(f->find_nic("eth0")->irqs.empty());
  EXPECT_FALSE(f->find_nic("eth0")->tx.empty()) << "the queues are still read";
}

// Each queue IRQ's affinity is read from its own IRQ's directory: the fixture gives every IRQ
// the same mask, so each is made distinct here.
TEST(Probe, EachQueueIrqGetsItsOwnIrqsAffinity) {
  TempDir dir;
  named_fixtures().at("bond-over-virtio").write(dir.path());
  for (const auto& e : std::filesystem::directory_iterator(dir / "proc/irq"))
    write_text(e.path().string() + "/smp_affinity", "a" + e.path().filename().string() + "\n");
  const SysRoot root(dir.path());
  SnapshotEthtool eth(root);
  auto f = probe(root, eth, {});
  ASSERT_TRUE(f.ok()) << f.error().text();
  size_t seen = 0;
  for (const char* name : {"eth0", "eth1"}) {
    const Nic* n = f->find_nic(name);
    ASSERT_NE(n, nullptr) << name;
    for (const auto& irq : n->irqs) {
      ASSERT_TRUE(irq.smp_affinity.readable()) << irq.name;
      EXPECT_EQ(*irq.smp_affinity.text, "a" + std::to_string(irq.irq)) << irq.name;
      ++seen;
    }
  }
  EXPECT_EQ(seen, 9u);
}

// irqbalance is looked for by the comm of every process: numbered directories only, the name
// trimmed, whatever the order, however long the file.
TEST(Processes, AreFoundByTheirTrimmedCommInNumberedDirectoriesOnly) {
  TempDir dir;
  write_text(dir / "proc/1/comm", "systemd\n");
  write_text(dir / "proc/2/comm", "kworker/0:1-events_power_efficient\n");
  write_text(dir / "proc/self/comm", "irqbalance\n");
  write_text(dir / "proc/12a/comm", "irqbalance\n");
  write_text(dir / "proc/300/comm", "irqbalancer\n");
  write_text(dir / "proc/301/comm", "irqbalanc\n");
  write_text(dir / "elsewhere/comm", "irqbalance\n");
  std::filesystem::create_directory_symlink(dir / "elsewhere", dir / "proc/77");
  const SysRoot root(dir.path());
  EXPECT_FALSE(root.any_process_named("irqbalance"));
  EXPECT_TRUE(root.any_process_named("systemd"));

  write_text(dir / "proc/812/comm", " irqbalance \n");
  EXPECT_TRUE(SysRoot(dir.path()).any_process_named("irqbalance"));
  std::filesystem::remove_all(dir / "proc/812");
  // Longer than one small read: read whole, so neither its start nor its end decides.
  write_text(dir / "proc/900/comm", "irqbalance" + std::string(300, ' ') + "x\n");
  EXPECT_FALSE(SysRoot(dir.path()).any_process_named("irqbalance"));
  write_text(dir / "proc/900/comm", std::string(300, ' ') + "irqbalance\n");
  EXPECT_TRUE(SysRoot(dir.path()).any_process_named("irqbalance"));

  // A snapshot's comm that could not be read when it was captured is not read now.
  write_text(dir / paths::kSnapshotUnreadable, "13 proc/900/comm\n");
  EXPECT_FALSE(SysRoot(dir.path()).any_process_named("irqbalance"));
  EXPECT_TRUE(SysRoot(dir.path()).any_process_named("systemd"));
}

TEST(Processes, ThisProcessIsFoundByItsName) {
  const SysRoot live("/");
  auto self = live.read("proc/self/comm");
  ASSERT_TRUE(self.ok()) << self.error().text();
  EXPECT_TRUE(live.any_process_named(trim(*self))) << *self;
  EXPECT_FALSE(live.any_process_named("gn-no-such-p"));
}

// On the live system a process is known by its program (/proc/PID/exe): found while it runs,
// by the program's whole file name (its comm keeps only the first 15 bytes), still found after
// that file is replaced on disk (a package update while it runs), and no longer once it ended.
TEST(Processes, ALiveProcessIsFoundByItsProgramWhileItRuns) {
  TempDir dir;
  const std::string name = "gn-test-program-" + std::to_string(::getpid());
  const std::string program = dir / name;
  std::filesystem::copy_file("/bin/sleep", program);
  std::filesystem::permissions(program, std::filesystem::perms::owner_all);
  const SysRoot live("/");
  ASSERT_FALSE(live.any_process_named(name));

  // The child's end of the pipe closes on exec: the read below returns once it runs the program.
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(program.c_str(), name.c_str(), "600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct Reap {
    pid_t pid;
    int status = 0;
    bool done = false;
    bool stop() {  // true when this stopped its own child
      if (done) return true;
      done = true;
      return ::kill(pid, SIGKILL) == 0 && ::waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
             WTERMSIG(status) == SIGKILL;
    }
    ~Reap() { stop(); }
  } child{pid};
  ::close(ready[1]);
  char byte;
  ssize_t n;
  do n = ::read(ready[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  ASSERT_EQ(n, 0) << "the program did not start";
  ASSERT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe"), program);

  EXPECT_TRUE(live.any_process_named(name));
  EXPECT_FALSE(live.any_process_named(name.substr(0, 15))) << "the comm's name is not the program's";
  // A caller that is not root may not read a root process's exe link (EACCES): it reads that
  // process's comm instead, which holds the name's first 15 bytes.
  if (::geteuid() == 0) {
    const pid_t reader = ::fork();
    ASSERT_GE(reader, 0);
    if (reader == 0) {
      // Never back into the test runner: whatever happens, this process ends here.
      try {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
        ::_exit(SysRoot("/").any_process_named(name.substr(0, 15)) ? 0 : 1);
      } catch (...) {
        ::_exit(3);
      }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(reader, &status, 0), reader);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  } else {
    // Said, not skipped silently: only root can start a reader that is not root.
    std::cout << "[   NOTE   ] not root: the comm fallback of a reader that is not root is not checked\n";
    RecordProperty("comm_fallback", "not checked: not root");
  }
  std::filesystem::remove(program);
  EXPECT_TRUE(live.any_process_named(name)) << "a program replaced on disk still runs";

  ASSERT_TRUE(child.stop()) << "the program this test started was not the one stopped";
  EXPECT_FALSE(live.any_process_named(name));
}

TEST(Processes, ACaptureKeepsTheCommItFound) {
  TempDir dir;
  Fixture f = named_fixtures().at("rhel8.0-9vcpu-4-queues");
  f.irqbalance = true;
  f.write(dir / "a");
  const SysRoot a(dir / "a");
  ASSERT_TRUE(a.any_process_named("irqbalance"));
  SnapshotEthtool eth_a(a);
  auto n = capture_snapshot(a, eth_a, {}, dir / "b");
  ASSERT_TRUE(n.ok()) << n.error().text();
  EXPECT_TRUE(SysRoot(dir / "b").any_process_named("irqbalance"));
}

// A listing by prefix (a NIC's lower_* links, the node* directories) keeps only those names,
// sorted; a capture still records the whole directory.
TEST(Listing, APrefixKeepsThoseNamesSortedAndACaptureRecordsEveryEntry) {
  TempDir dir;
  for (const char* name : {"lower_eth1", "lower_eth0", "mtu", "lowe", "upper_br0"}) write_text(dir / ("nic/" + std::string(name)), "x\n");
  const SysRoot root(dir.path());
  const auto names = [](const Result<std::vector<DirEntry>>& l) {
    std::vector<std::string> out;
    if (l)
      for (const auto& e : *l) out.push_back(e.name);
    return out;
  };
  EXPECT_EQ(names(root.list("nic", "lower_")), (std::vector<std::string>{"lower_eth0", "lower_eth1"}));
  EXPECT_EQ(names(root.list("nic")), (std::vector<std::string>{"lowe", "lower_eth0", "lower_eth1", "mtu", "upper_br0"}));
  EXPECT_TRUE(names(root.list("nic", "none")).empty());
  EXPECT_FALSE(root.list("absent", "lower_").ok());

  struct Dirs : ReadRecorder {
    void file(const std::string&, const std::string&) override {}
    void unreadable(const std::string&, int) override {}
    void link(const std::string&, const std::string&) override {}
    void dir(const std::string& rel, const std::vector<DirEntry>& entries) override { seen[rel] = entries.size(); }
    std::map<std::string, size_t> seen;
  } recorded;
  SysRoot capturing(dir.path());
  capturing.set_recorder(&recorded);
  EXPECT_EQ(names(capturing.list("nic", "lower_")), (std::vector<std::string>{"lower_eth0", "lower_eth1"}));
  EXPECT_EQ(recorded.seen["nic"], 5u);
}

// A run that writes opens each target once: the file read_target() kept open is the one
// rewrite() writes and reads back, without opening or reading it again.
struct KeptTargetRig {
  KeptTargetRig() {
    std::filesystem::create_directories(dir / "sys/class/net/eth0/queues/rx-0");
    write_text(dir / a, "0\n");
    write_text(dir / b, "0\n");
  }
  // Another file takes the path: only a kept open file still reaches the one that was read.
  void replace(const std::string& rel) {
    write_text(dir / (rel + ".new"), "5\n");
    std::filesystem::rename(dir / (rel + ".new"), dir / rel);
  }
  Result<SysRoot::Rewrite> rewrite(const SysRoot& root, const std::string& rel, const std::string_view* before) {
    return root.rewrite(
        rel,
        [&](std::string_view now) -> Result<std::optional<std::string>> {
          seen = std::string(now);
          return std::optional<std::string>("f");
        },
        before);
  }
  TempDir dir;
  const std::string a = "sys/class/net/eth0/queues/rx-0/rps_cpus", b = "sys/class/net/eth0/queues/rx-0/rps_flow_cnt";
  const std::string_view read_before = "0";
  std::string seen;  // what text_for was given
};

TEST(KeptTargets, RewriteWritesAndReadsBackOnTheFileThatWasRead) {
  KeptTargetRig rig;
  const SysRoot root(rig.dir.path());
  root.keep_targets(8);
  auto text = root.read_target(rig.a);
  ASSERT_TRUE(text.ok()) << text.error().text();
  EXPECT_EQ(*text, "0\n");
  EXPECT_EQ(root.kept_targets(), 1u);
  rig.replace(rig.a);
  auto r = rig.rewrite(root, rig.a, &rig.read_before);
  ASSERT_TRUE(r.ok()) << r.error().text();
  EXPECT_EQ(rig.seen, "0") << "decided on what was read, not read again";
  EXPECT_EQ(r->before, "0");
  EXPECT_TRUE(r->written);
  EXPECT_EQ(r->after, "f") << "read back on the kept file";
  EXPECT_EQ(read_text(rig.dir / rig.a), "5\n") << "the path was not opened again";
  EXPECT_EQ(root.kept_targets(), 0u) << "the kept file is used once";
}

TEST(KeptTargets, WithoutWhatWasReadTheFileIsOpenedAndReadAgain) {
  KeptTargetRig rig;
  const SysRoot root(rig.dir.path());
  root.keep_targets(8);
  ASSERT_TRUE(root.read_target(rig.a).ok());
  rig.replace(rig.a);
  auto r = rig.rewrite(root, rig.a, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().text();
  EXPECT_EQ(rig.seen, "5");
  EXPECT_EQ(read_text(rig.dir / rig.a), "f\n");
  EXPECT_EQ(root.kept_targets(), 0u) << "the unused kept file is closed";
}

TEST(KeptTargets, PastTheCapAFileIsOpenedAgain) {
  KeptTargetRig rig;
  const SysRoot root(rig.dir.path());
  root.keep_targets(1);
  ASSERT_TRUE(root.read_target(rig.a).ok());
  ASSERT_TRUE(root.read_target(rig.b).ok());
  EXPECT_EQ(root.kept_targets(), 1u);
  rig.replace(rig.b);
  auto r = rig.rewrite(root, rig.b, &rig.read_before);
  ASSERT_TRUE(r.ok()) << r.error().text();
  EXPECT_EQ(rig.seen, "5") << "not kept: read where it is now";
  EXPECT_EQ(read_text(rig.dir / rig.b), "f\n");
}

// Thousands of kept files, as a wide guest's apply keeps: each rewrite takes the descriptor of
// its own path (a wrong one would write another queue's file), and a path taken can be kept again.
TEST(KeptTargets, EachOfThousandsIsWrittenThroughItsOwnDescriptor) {
  TempDir dir;
  // As many as the file limit lets keep_targets keep (it raises the soft limit to the hard one
  // and leaves 256 for the rest), up to 4000: enough for the table to grow six times.
  struct rlimit lim {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  const size_t files = lim.rlim_max == RLIM_INFINITY ? 4000 : std::min<size_t>(4000, (lim.rlim_max - 300) / 2 * 2);
  ASSERT_GE(files, 600u) << "a hard limit of open files below 900";
  std::vector<std::string> rels;
  for (size_t nic = 0; rels.size() < files; ++nic)
    for (size_t q = 0; q < 500 && rels.size() < files; ++q)
      for (const char* file : {"rps_cpus", "rps_flow_cnt"}) {
        const std::string queue = "sys/class/net/eth" + std::to_string(nic) + "/queues/rx-" + std::to_string(q);
        std::filesystem::create_directories(dir / queue);
        rels.push_back(queue + "/" + file);
        write_text(dir / rels.back(), "0\n");
      }
  const SysRoot root(dir.path());
  root.keep_targets(rels.size() + 1);  // room for one more after all are retired
  for (const auto& rel : rels) ASSERT_TRUE(root.read_target(rel).ok()) << rel;
  ASSERT_TRUE(root.read_target(rels[7]).ok());
  ASSERT_EQ(root.kept_targets(), rels.size()) << "each path kept once";
  const std::string_view before = "0";
  for (size_t i = 0; i < rels.size(); ++i) {
    auto r = root.rewrite(
        rels[i], [&](std::string_view) -> Result<std::optional<std::string>> { return std::optional(std::to_string(i)); },
        &before);
    ASSERT_TRUE(r.ok()) << r.error().text();
    ASSERT_EQ(r->after, std::to_string(i)) << rels[i];
    ASSERT_EQ(root.kept_targets(), rels.size() - i - 1) << rels[i] << " was not written through its kept file";
  }
  for (size_t i = 0; i < rels.size(); ++i) ASSERT_EQ(read_text(dir / rels[i]), std::to_string(i) + "\n") << rels[i];
  // A path taken is kept again, on the file it reads now: another file then takes the path, and
  // the rewrite still reaches the one that was read.
  ASSERT_TRUE(root.read_target(rels[0]).ok());
  EXPECT_EQ(root.kept_targets(), 1u) << "a path taken is kept again";
  write_text(dir / (rels[0] + ".new"), "new\n");
  std::filesystem::rename(dir / (rels[0] + ".new"), dir / rels[0]);
  const std::string_view was = "0";
  auto again = root.rewrite(
      rels[0], [](std::string_view) -> Result<std::optional<std::string>> { return std::optional<std::string>("ff"); },
      &was);
  ASSERT_TRUE(again.ok()) << again.error().text();
  EXPECT_EQ(again->after, "ff");
  EXPECT_EQ(read_text(dir / rels[0]), "new\n") << "written through the descriptor kept the second time";
  EXPECT_EQ(root.kept_targets(), 0u);
}

TEST(KeptTargets, NothingIsKeptUnlessAskedAndMissingFilesFail) {
  KeptTargetRig rig;
  const SysRoot root(rig.dir.path());
  ASSERT_TRUE(root.read_target(rig.a).ok());
  EXPECT_EQ(root.kept_targets(), 0u);
  root.keep_targets(8);
  auto missing = root.read_target("sys/class/net/eth0/queues/rx-0/nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_EQ(root.kept_targets(), 0u);
}

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(KeptTargets, FilesDoneWithStayOpenUntilTheRootGoesAndAllCloseThen) {
  KeptTargetRig rig;
  std::vector<std::string> more;  // files rewritten without being kept: opened by rewrite()
  for (int i = 0; i < 12; ++i) {
    more.push_back("sys/class/net/eth0/queues/rx-0/extra" + std::to_string(i));
    write_text(rig.dir / more.back(), "0\n");
  }
  const size_t before = open_descriptors();
  {
    const SysRoot root(rig.dir.path());
    root.keep_targets(64);
    ASSERT_TRUE(root.read_target(rig.a).ok());
    ASSERT_TRUE(root.read_target(rig.b).ok());
    const size_t kept = open_descriptors();
    ASSERT_TRUE(rig.rewrite(root, rig.a, &rig.read_before).ok());
    EXPECT_EQ(open_descriptors(), kept) << "the kept file, used, stays open";
    for (const auto& rel : more) ASSERT_TRUE(rig.rewrite(root, rel, nullptr).ok());
    EXPECT_EQ(open_descriptors(), kept + more.size()) << "each file rewritten stays open";
    EXPECT_EQ(read_text(rig.dir / more.back()), "f\n");
  }
  EXPECT_EQ(open_descriptors(), before) << "every file, kept, used or not, is closed with the root";
  {
    const SysRoot root(rig.dir.path());
    ASSERT_TRUE(rig.rewrite(root, rig.a, nullptr).ok());
    EXPECT_LE(open_descriptors(), before + 1) << "nothing kept: closed at once (a directory may stay open)";
  }
  EXPECT_EQ(open_descriptors(), before);
}

// The cap counts every descriptor the root holds: kept and not yet used, and used but not yet
// closed. Past it a file read is not kept and a file rewritten is closed at once.
TEST(KeptTargets, TheCapCountsFilesKeptAndFilesDoneWith) {
  KeptTargetRig rig;
  const std::string c = "sys/class/net/eth0/queues/rx-0/c", d = "sys/class/net/eth0/queues/rx-0/d";
  write_text(rig.dir / c, "0\n");
  write_text(rig.dir / d, "0\n");
  const SysRoot root(rig.dir.path());
  root.keep_targets(3);
  ASSERT_TRUE(root.read_target(rig.a).ok());
  ASSERT_TRUE(root.read_target(rig.b).ok());
  ASSERT_TRUE(rig.rewrite(root, rig.a, &rig.read_before).ok());
  ASSERT_TRUE(rig.rewrite(root, rig.b, &rig.read_before).ok());
  EXPECT_EQ(root.kept_targets(), 0u) << "both used: done with, still open";
  const size_t two = open_descriptors();
  ASSERT_TRUE(root.read_target(c).ok());
  EXPECT_EQ(root.kept_targets(), 1u) << "two done with and one kept: the cap of 3";
  EXPECT_EQ(open_descriptors(), two + 1);
  ASSERT_TRUE(root.read_target(d).ok());
  EXPECT_EQ(root.kept_targets(), 1u) << "past the cap: read and closed";
  EXPECT_EQ(open_descriptors(), two + 1);
  ASSERT_TRUE(rig.rewrite(root, d, nullptr).ok());
  EXPECT_EQ(open_descriptors(), two + 1) << "past the cap: a file rewritten is closed at once";
  EXPECT_EQ(read_text(rig.dir / d), "f\n");
}

// Writes `to` into `rel`, read before as "0" (through the file read_target() kept, if any).
Result<SysRoot::Rewrite> rewrite_to(const SysRoot& root, const std::string& rel, const std::string& to) {
  static constexpr std::string_view kBefore = "0";
  return root.rewrite(
      rel, [&](std::string_view) -> Result<std::optional<std::string>> { return std::optional<std::string>(to); },
      &kBefore);
}

// Kept files are keyed by their directory two levels up and the rest of the path: NICs' queue
// files share the rest ("rx-0/rps_cpus"), and each rewrite must take its own NIC's descriptor,
// never another's (that would write one NIC's value into another's file); a path under a
// directory nothing was kept in takes none. Two hundred NICs: enough for the table's probes to
// run from one NIC's key into another's entry with the same rest.
TEST(KeptTargets, TheSameRestUnderAnotherNicIsAnotherFile) {
  TempDir dir;
  std::vector<std::string> rels;
  for (int nic = 0; nic < 200; ++nic)
    for (const char* file : {"rps_cpus", "rps_flow_cnt"}) {
      rels.push_back("sys/class/net/eth" + std::to_string(nic) + "/queues/rx-0/" + file);
      write_text(dir / rels.back(), "0\n");
    }
  const std::string never = "sys/class/net/eth200/queues/rx-0/rps_cpus";  // its directory: nothing kept
  write_text(dir / never, "0\n");
  struct rlimit lim {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  ASSERT_TRUE(lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= 1024) << "a hard limit of open files below 1024";
  const SysRoot root(dir.path());
  root.keep_targets(rels.size() + 1);
  for (const auto& rel : rels) ASSERT_TRUE(root.read_target(rel).ok()) << rel;
  ASSERT_EQ(root.kept_targets(), rels.size()) << "a kept file for each NIC's rx-0/rps_cpus and rx-0/rps_flow_cnt";
  ASSERT_TRUE(rewrite_to(root, never, "n").ok());
  EXPECT_EQ(root.kept_targets(), rels.size()) << "no NIC's descriptor is taken for a file never kept";
  for (size_t i = 0; i < rels.size(); ++i) {
    ASSERT_TRUE(rewrite_to(root, rels[i], std::to_string(i + 1)).ok()) << rels[i];
    ASSERT_EQ(root.kept_targets(), rels.size() - i - 1) << rels[i] << " was not written through its own kept file";
  }
  EXPECT_EQ(read_text(dir / never), "n\n");
  for (size_t i = 0; i < rels.size(); ++i) ASSERT_EQ(read_text(dir / rels[i]), std::to_string(i + 1) + "\n") << rels[i];
}

// A path with no directory two levels up is kept whole: "x", "a/x" and "b/x" are three files,
// and "rx-0/rps_cpus" is not the rest of a longer path whose directory nothing was kept in.
TEST(KeptTargets, PathsWithNoDirectoryTwoLevelsUpAreKeptWhole) {
  TempDir dir;
  const std::vector<std::string> rels = {"x", "a/x", "b/x", "rx-0/rps_cpus"};
  const std::string longer = "eth9/queues/rx-0/rps_cpus";
  for (const auto& rel : rels) write_text(dir / rel, "0\n");
  write_text(dir / longer, "0\n");
  const SysRoot root(dir.path());
  root.keep_targets(8);
  for (const auto& rel : rels) ASSERT_TRUE(root.read_target(rel).ok()) << rel;
  EXPECT_EQ(root.kept_targets(), rels.size()) << "each kept as its own file";
  ASSERT_TRUE(rewrite_to(root, longer, "9").ok());
  EXPECT_EQ(root.kept_targets(), rels.size()) << longer << " took the descriptor of rx-0/rps_cpus";
  for (size_t i = 0; i < rels.size(); ++i) {
    ASSERT_TRUE(rewrite_to(root, rels[i], std::to_string(i + 1)).ok()) << rels[i];
    EXPECT_EQ(root.kept_targets(), rels.size() - i - 1) << rels[i] << " was not written through its kept file";
  }
  for (size_t i = 0; i < rels.size(); ++i) EXPECT_EQ(read_text(dir / rels[i]), std::to_string(i + 1) + "\n") << rels[i];
  EXPECT_EQ(read_text(dir / longer), "9\n");
}

TEST(EthtoolFile, RoundTrips) {
  EthtoolFile f;
  f.driver = "veth";
  Channels c;
  c.max_rx = c.max_tx = 8;
  c.rx = 3;
  c.tx = 5;
  f.channels = c;
  auto back = parse_ethtool_file(format_ethtool_file(f));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->driver, "veth");
  ASSERT_TRUE(back->channels.has_value());
  EXPECT_TRUE(*back->channels == c);
  EXPECT_FALSE(parse_ethtool_file("driver x\nrx 1\n").ok());
  EXPECT_FALSE(parse_ethtool_file("bogus 1\n").ok());
  EXPECT_FALSE(parse_ethtool_file("rx -1\n").ok());
}

}  // namespace
}  // namespace gn::test
