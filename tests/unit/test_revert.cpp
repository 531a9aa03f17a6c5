// `guest-nettune revert` as a user runs it on snapshots: what it restores (upper devices
// expanded, never narrowed by the config file), what it refuses (unknown NICs, tuning options)
// with exit 2 and nothing touched.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "fixture.h"
#include "tempdir.h"

namespace gn::test {
namespace {

namespace fs = std::filesystem;

CommandResult run(const std::string& args) {
  return run_command(std::string(GN_AGENT_BIN) + " " + args + " 2>&1");
}

// Every file under the snapshot with its content (the journal's state dir included), so that
// "nothing touched" covers the journal too.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (rel.rfind("run", 0) == 0) {  // the lock file
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) out[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_regular_file()) out[rel] = read_text(it->path().string());
  }
  return out;
}

// The kernel side only: what a revert must restore byte for byte.
std::map<std::string, std::string> kernel_side(const std::string& dir) {
  auto t = tree(dir);
  for (auto it = t.begin(); it != t.end();)
    it = it->first.rfind("state", 0) == 0 || it->first.rfind("etc", 0) == 0 ? t.erase(it) : std::next(it);
  return t;
}

std::string differences(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [k, v] : a)
    if (!b.count(k) || b.at(k) != v) out += k + ": '" + v + "' vs '" + (b.count(k) ? b.at(k) : "<missing>") + "'\n";
  for (const auto& [k, v] : b)
    if (!a.count(k)) out += k + ": <missing> vs '" + v + "'\n";
  return out;
}

class Revert : public ::testing::Test {
 protected:
  void use(const std::string& fixture) { named_fixtures().at(fixture).write(dir_.path()); }
  // Every command with the snapshot and a state dir inside it.
  std::string at() const {
    return " --root " + dir_.path() + " --state-dir " + dir_.path() + "/state --run-dir " + dir_.path() + "/run";
  }
  CommandResult apply(const std::string& extra = "") { return run("apply --config ''" + at() + " " + extra); }
  CommandResult revert(const std::string& extra = "") { return run("revert" + at() + " " + extra); }
  nlohmann::json journal() const { return nlohmann::json::parse(read_text(dir_ / "state/journal.json")); }
  std::set<std::string> journal_nics() const {
    std::set<std::string> out;
    const nlohmann::json j = journal();
    for (const auto& e : j["entries"]) out.insert(e["nic"].get<std::string>());
    return out;
  }
  TempDir dir_;
};

TEST_F(Revert, AnUpperDeviceMeansItsLowerDevicesAsInApply) {
  use("bond-over-virtio");
  const auto before = kernel_side(dir_.path());
  ASSERT_EQ(apply().code, 0);
  ASSERT_EQ(journal_nics(), (std::set<std::string>{"", "eth0", "eth1"}));
  const CommandResult r = revert("--interface bond0");
  ASSERT_EQ(r.code, 0) << r.out;
  // Both lower devices restored and forgotten; the sysctls (not a NIC's) stay tuned.
  EXPECT_EQ(journal_nics(), (std::set<std::string>{""}));
  const auto after = kernel_side(dir_.path());
  for (const auto& [path, text] : before) {
    if (path.find("/eth0") != std::string::npos || path.find("/eth1") != std::string::npos ||
        path.find("ethtool/eth") != std::string::npos) {
      EXPECT_EQ(after.at(path), text) << path;
    }
  }
}

TEST_F(Revert, AVlanMeansTheNicBelowIt) {
  use("vlan-on-virtio");
  ASSERT_EQ(apply().code, 0);
  ASSERT_TRUE(journal_nics().count("eth0"));
  const CommandResult r = revert("--interface eth0.100");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(journal_nics(), (std::set<std::string>{""}));
}

TEST_F(Revert, AnUnknownInterfaceIsExitTwoAndNothingIsTouched) {
  use("bond-over-virtio");
  ASSERT_EQ(apply().code, 0);
  const auto before = tree(dir_.path());
  const CommandResult r = revert("--interface nosuchnic");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("nosuchnic"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no such interface"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bond0"), std::string::npos) << "lists the NICs there are: " << r.out;
  EXPECT_EQ(differences(tree(dir_.path()), before), "");
  // One bad name among good ones: still nothing restored.
  const CommandResult mixed = revert("--interface eth0 --interface nosuchnic");
  EXPECT_EQ(mixed.code, 2) << mixed.out;
  EXPECT_EQ(differences(tree(dir_.path()), before), "");
}

TEST_F(Revert, ANicThatIsGoneButJournalledIsAccepted) {
  use("bond-over-virtio");
  ASSERT_EQ(apply().code, 0);
  fs::remove(dir_ / "sys/class/net/eth1");
  const CommandResult r = revert("--interface eth1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(journal_nics().count("eth1"));
  EXPECT_TRUE(journal_nics().count("eth0"));
}

TEST_F(Revert, TuningOptionsAndTheConfigFileAreRefusedByName) {
  use("rhel8.0-9vcpu-4-queues");
  ASSERT_EQ(apply().code, 0);
  const auto before = tree(dir_.path());
  for (const std::string opt :
       {"--profile latency", "--xps off", "--rps on", "--channels 2", "--irq-affinity off", "--sysctls off",
        "--rps-flow-entries 1024", "--netdev-budget 600", "--busy-poll 50", "--exclude eth0", "--driver veth",
        "--config /dev/null"}) {
    const CommandResult r = revert(opt);
    EXPECT_EQ(r.code, 2) << opt << "\n" << r.out;
    const std::string name = opt.substr(0, opt.find(' '));
    EXPECT_NE(r.out.find(name + " does not apply to revert"), std::string::npos) << opt << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_EQ(differences(tree(dir_.path()), before), "") << opt;
  }
  const CommandResult help = run("revert --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--interface"), std::string::npos) << help.out;
  EXPECT_EQ(help.out.find("--profile"), std::string::npos) << help.out;
}

TEST_F(Revert, TheConfigFileNeverNarrowsWhatARevertRestores) {
  use("bond-over-virtio");
  const auto before = kernel_side(dir_.path());
  ASSERT_EQ(apply().code, 0);
  // An admin's config names one NIC and has keys revert does not know: revert (the one the
  // package runs on removal) still restores every NIC and the sysctls.
  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "interface = eth0\nexclude = eth1\nprofile = latency\n");
  const CommandResult r = revert();
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(journal()["entries"].size(), 0u) << journal().dump();
  EXPECT_EQ(differences(kernel_side(dir_.path()), before), "");
}

TEST_F(Revert, ABrokenConfigFileDoesNotStopARevert) {
  use("rhel8.0-9vcpu-4-queues");
  const auto before = kernel_side(dir_.path());
  ASSERT_EQ(apply().code, 0);
  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "colour = blue\n");
  const CommandResult r = revert();
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(differences(kernel_side(dir_.path()), before), "");
}

}  // namespace
}  // namespace gn::test
