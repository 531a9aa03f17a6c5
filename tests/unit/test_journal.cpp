// The journal as input (validated whole), across boots (boot id) and devices (ifindex), and the
// scope of automatic re-apply (reapply.json): on strings, temp dirs and snapshots.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "fixture.h"
#include "journal.h"
#include "journal_entry.h"
#include "json_plain.h"
#include "durable_file.h"
#include "reapply_scope.h"
#include "sax_record.h"
#include "tempdir.h"

namespace gn::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kBootA = "0f6c2b8e-1111-4222-8333-444455556666";
const char* kBootB = "7d1e0a2b-aaaa-4bbb-8ccc-dddd0000ffff";

json good_journal() {
  return json::parse(R"({"format": 2, "boot_id": "0f6c2b8e-1111-4222-8333-444455556666", "entries": [
    {"target": "ethtool:eth0:channels", "kind": "channels", "nic": "eth0", "ifindex": 2, "original": "rx 0 tx 0 other 0 combined 1"},
    {"target": "sys/class/net/eth0/queues/tx-0/xps_cpus", "kind": "xps_cpus", "nic": "eth0", "ifindex": 2, "original": "00000000,00000003"},
    {"target": "sys/class/net/eth0/queues/rx-0/rps_cpus", "kind": "rps_cpus", "nic": "eth0", "ifindex": 2, "original": "0"},
    {"target": "sys/class/net/eth0/queues/rx-0/rps_flow_cnt", "kind": "rps_flow_cnt", "nic": "eth0", "ifindex": 2, "original": "0"},
    {"target": "proc/irq/25/smp_affinity", "kind": "irq_affinity", "nic": "eth0", "ifindex": 2, "original": "f"},
    {"target": "proc/sys/net/core/netdev_budget", "kind": "sysctl", "nic": "", "ifindex": 0, "original": "300"}]})");
}

TEST(JournalFile, AcceptsEveryKindTheAgentWritesAndRoundTrips) {
  auto f = Journal::parse(good_journal().dump());
  ASSERT_TRUE(f.ok()) << f.error().text();
  EXPECT_EQ(f->boot_id, kBootA);
  ASSERT_EQ(f->entries.size(), 6u);
  EXPECT_EQ(f->entries[0].ifindex, 2u);
  auto again = Journal::parse(Journal::to_json(*f));
  ASSERT_TRUE(again.ok()) << again.error().text();
  EXPECT_EQ(json::parse(Journal::to_json(*again)), json::parse(Journal::to_json(*f)));
}

// Edits of a good journal that make one the agent never writes, and what the error says.
struct Refusal {
  std::string what;
  std::function<void(json&)> edit;
  std::string says;
};
std::vector<Refusal> refusals() {
  return {
      {"a target escaping the queue dir", [](json& j) { j["entries"][1]["target"] = "sys/class/net/eth0/queues/tx-0/../../../../../etc/passwd"; }, "entry 1: target"},
      {"an absolute target", [](json& j) { j["entries"][1]["target"] = "/etc/shadow"; }, "entry 1: target"},
      {"another NIC's file", [](json& j) { j["entries"][1]["target"] = "sys/class/net/eth1/queues/tx-0/xps_cpus"; }, "is not a xps_cpus file of eth0"},
      // No queue's or IRQ's directory: the kernel names them without one.
      {"a queue with a leading zero", [](json& j) { j["entries"][1]["target"] = "sys/class/net/eth0/queues/tx-00/xps_cpus"; }, "is not a xps_cpus file of eth0"},
      {"a queue past virtio-net's last", [](json& j) { j["entries"][1]["target"] = "sys/class/net/eth0/queues/tx-32768/xps_cpus"; }, "names a queue past 32767, virtio-net's last"},
      {"an IRQ with a leading zero", [](json& j) { j["entries"][4]["target"] = "proc/irq/025/smp_affinity"; }, "is not a irq_affinity file of eth0"},
      {"a kind that does not match", [](json& j) { j["entries"][1]["kind"] = "rps_cpus"; }, "entry 1: target"},
      {"a sysctl the agent never sets", [](json& j) { j["entries"][5]["target"] = "proc/sys/kernel/core_pattern"; }, "not a sysctl guest-nettune writes"},
      {"a sysctl with a NIC", [](json& j) { j["entries"][5]["nic"] = "eth0"; }, "names NIC"},
      {"an IRQ without a NIC", [](json& j) { j["entries"][4]["nic"] = ""; j["entries"][4]["ifindex"] = 0; }, "needs the NIC"},
      {"a NIC name with a slash", [](json& j) { j["entries"][0]["nic"] = "e/0"; }, "entry 0: nic"},
      {"a mask with a command in it", [](json& j) { j["entries"][1]["original"] = "3; reboot"; }, "is not a CPU mask"},
      {"a number that is not one", [](json& j) { j["entries"][5]["original"] = "300 0"; }, "is not a number"},
      {"channels that do not parse", [](json& j) { j["entries"][0]["original"] = "rx 0 tx 0 other 0 combined 70000"; }, "malformed channel counts"},
      {"channels with trailing text", [](json& j) { j["entries"][0]["original"] = "rx 0 tx 0 other 0 combined 1 x"; }, "malformed channel counts"},
      {"a huge original", [](json& j) { j["entries"][1]["original"] = std::string(5000, 'f'); }, "longer than"},
      {"an unknown kind", [](json& j) { j["entries"][1]["kind"] = "mtu"; }, "unknown kind"},
      {"an unknown entry key", [](json& j) { j["entries"][1]["write_to"] = "/etc/x"; }, "unknown key 'write_to'"},
      {"a missing key", [](json& j) { j["entries"][1].erase("original"); }, "has no 'original'"},
      {"a number as a string", [](json& j) { j["entries"][1]["original"] = 3; }, "'original' is not a string"},
      {"a negative ifindex", [](json& j) { j["entries"][1]["ifindex"] = -1; }, "ifindex"},
      {"a sysctl with an ifindex", [](json& j) { j["entries"][5]["ifindex"] = 3; }, "a sysctl has no ifindex"},
      {"a target twice", [](json& j) { j["entries"].push_back(j["entries"][1]); },
       "entry 6: target sys/class/net/eth0/queues/tx-0/xps_cpus is journalled twice"},
      // An IRQ's file is one whichever NIC it was journalled for: revert would write it twice.
      {"an IRQ twice under two NICs", [](json& j) { j["entries"].push_back(j["entries"][4]); j["entries"][6]["nic"] = "eth1"; },
       "entry 6: target proc/irq/25/smp_affinity is journalled twice"},
      // The first error is the first entry's: a target twice before an entry that fails.
      {"a target twice, then a bad entry", [](json& j) { j["entries"].push_back(j["entries"][1]); j["entries"].push_back(j["entries"][2]); j["entries"][7]["original"] = "x"; },
       "entry 6: target sys/class/net/eth0/queues/tx-0/xps_cpus is journalled twice"},
      {"a boot id that is not one", [](json& j) { j["boot_id"] = "../x"; }, "is not a boot id"},
      {"no boot id in format 2", [](json& j) { j.erase("boot_id"); }, "has no boot_id"},
      {"a boot id in format 1", [](json& j) { j["format"] = 1; }, "unknown key 'boot_id'"},
      {"a future format", [](json& j) { j["format"] = 3; }, "journal format 3"},
      {"an unknown top-level key", [](json& j) { j["hook"] = "x"; }, "unknown key 'hook'"},
      {"entries not a list", [](json& j) { j["entries"] = json::object(); }, "has no entries array"},
      {"an entry not an object", [](json& j) { j["entries"][0] = "x"; }, "is not an object"},
  };
}

TEST(JournalFile, RefusesWhatTheAgentNeverWritesSayingWhichEntryAndWhy) {
  for (const auto& c : refusals()) {
    json j = good_journal();
    c.edit(j);
    auto f = Journal::parse(j.dump());
    EXPECT_FALSE(f.ok()) << c.what;
    if (f.ok()) continue;  // the next case still runs
    EXPECT_NE(f.error().message.find(c.says), std::string::npos) << c.what << ": " << f.error().message;
  }
  EXPECT_FALSE(Journal::parse("{\"format\": 2, \"entries\": [tru").ok());
  EXPECT_FALSE(Journal::parse("[]").ok());
  EXPECT_FALSE(Journal::parse(std::string(100000, '[')).ok());
}

TEST(JournalFile, ReadsAsADocumentWould) {
  // A key given twice counts with its last value; a value nested where a string belongs is not
  // one; every entry is checked wherever "entries" stands.
  const std::string entry = good_journal()["entries"][1].dump();
  auto twice = Journal::parse(R"({"entries": [], "format": 2, "boot_id": "", "entries": [)" + entry +
                              R"(], "format": 2})");
  ASSERT_TRUE(twice.ok()) << twice.error().text();
  ASSERT_EQ(twice->entries.size(), 1u);
  EXPECT_EQ(twice->entries[0].original, "00000000,00000003");
  auto last = Journal::parse(R"({"format": 2, "boot_id": "", "entries": [{"original": "1", "target": "sys/class/net/eth0/queues/tx-0/xps_cpus", "kind": "xps_cpus", "nic": "eth0", "ifindex": 2, "original": "3"}]})");
  ASSERT_TRUE(last.ok()) << last.error().text();
  EXPECT_EQ(last->entries[0].original, "3");
  json nested = good_journal();
  nested["entries"][1]["original"] = json{{"original", "3"}};
  auto n = Journal::parse(nested.dump());
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("entry 1: 'original' is not a string"), std::string::npos) << n.error().message;
  json unknown_first = good_journal();
  unknown_first["entries"][2]["zz"] = 1;
  unknown_first["entries"][2]["aa"] = json::array({1, 2});
  auto u = Journal::parse(unknown_first.dump());
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("entry 2: unknown key 'aa'"), std::string::npos) << u.error().message;
  auto later = Journal::parse(R"({"boot_id": "", "entries": [], "format": 2, "entries": 5})");
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.error().message.find("has no entries array"), std::string::npos) << later.error().message;
  EXPECT_FALSE(Journal::parse(R"({"format": 2, "boot_id": "", "entries": []} x)").ok());
  EXPECT_FALSE(Journal::parse(R"("format")").ok());
}

// load() reads the file a block at a time when it is plain JSON as the agent writes it, and
// whole (by nlohmann's parser) when it is not: either way, exactly what parse() makes of its text.
TEST(JournalFile, LoadingAFileOfManyBlocksGivesWhatParsingItsTextGives) {
  JournalFile wide;
  wide.boot_id = kBootA;
  for (unsigned q = 0; q < 2000; ++q) {
    std::string mask;  // 1 to 32 groups: 9 to 288 characters
    for (unsigned g = 0; g < q % 32; ++g) mask += "00000000,";
    mask += "0000000f";
    wide.entries.push_back(journal_entry("sys/class/net/eth" + std::to_string(q % 7) + "/queues/tx-" + std::to_string(q) + "/xps_cpus",
                            SettingKind::Xps, "eth" + std::to_string(q % 7), mask, q % 7 + 2));
  }
  const std::string plain = Journal::to_json(wide);
  ASSERT_GT(plain.size(), 4u * 65536) << "entries on both sides of several block edges";
  // The same journal with the last entry's original ending in an escape: not plain, found only
  // after several blocks were read, and read again whole.
  std::string escaped = plain;
  const size_t last_f = escaped.rfind("f\",");
  ASSERT_NE(last_f, std::string::npos);
  escaped.replace(last_f, 1, "\\u0066");
  ASSERT_GT(last_f, 2u * 65536);
  for (const std::string* text : {&plain, static_cast<const std::string*>(&escaped)}) {
    TempDir d;
    write_text(d / "journal.json", *text);
    {
      // The plain journal is read from the file a block at a time (not whole, by the fallback);
      // the escaped one is not plain.
      auto blocks = FileBlocks::open(d / "journal.json");
      ASSERT_TRUE(blocks.ok()) << blocks.error().text();
      SaxRecord from_blocks, reference;
      const bool plain_read = sax_parse_plain([&] { return blocks->next(); }, from_blocks);
      EXPECT_EQ(plain_read, text == &plain);
      EXPECT_EQ(blocks->error(), nullptr);
      if (plain_read) {
        ASSERT_TRUE(nlohmann::json::sax_parse(*text, &reference));
        EXPECT_EQ(from_blocks.events, reference.events);
      }
    }
    const auto parsed = Journal::parse(*text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().text();
    JournalContext ctx;
    ctx.boot_id = kBootA;
    const auto loaded = Journal::load(d.path(), ctx);
    ASSERT_TRUE(loaded.ok()) << loaded.error().text();
    ASSERT_EQ(loaded->entries().size(), wide.entries.size());
    EXPECT_TRUE(loaded->stale().empty());
    for (size_t i = 0; i < wide.entries.size(); ++i) {
      const JournalEntry& want = wide.entries[i];
      const JournalEntry& got = loaded->entries()[i];
      ASSERT_EQ(got.path(), want.path()) << i;
      ASSERT_EQ(got.original, want.original) << i;
      ASSERT_EQ(got.nic, want.nic) << i;
      ASSERT_EQ(got.kind, want.kind) << i;
      ASSERT_EQ(got.ifindex, want.ifindex) << i;
      ASSERT_EQ(parsed->entries[i].original, want.original) << i;
    }
    const auto targets = Journal::live_targets(d.path(), ctx);
    ASSERT_TRUE(targets.ok()) << targets.error().text();
    ASSERT_EQ(targets->size(), wide.entries.size());
    for (unsigned q = 0; q < wide.entries.size(); ++q) {
      const Target t(SettingKind::Xps, "eth" + std::to_string(q % 7), static_cast<int>(q), 0, nullptr);
      ASSERT_EQ(t.path(), wide.entries[q].path());
      EXPECT_TRUE(targets->has(t)) << t.path();
      EXPECT_FALSE(targets->has(Target(SettingKind::Xps, "eth" + std::to_string((q + 1) % 7), static_cast<int>(q), 0, nullptr))) << q;
    }
  }
  // Refused as parse() refuses it, naming the file: an entry far past the first block is wrong.
  std::string bad = plain;
  bad.replace(bad.rfind("xps_cpus\""), 9, "rps_cpus\"");
  TempDir d;
  write_text(d / "journal.json", bad);
  const auto parsed = Journal::parse(bad);
  ASSERT_FALSE(parsed.ok());
  const auto loaded = Journal::load(d.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().text().find(d / "journal.json"), std::string::npos) << loaded.error().text();
  EXPECT_EQ(loaded.error().message, parsed.error().message);
  EXPECT_NE(parsed.error().message.find("entry 1999"), std::string::npos) << parsed.error().message;
}

TEST(JournalFile, AFileTooLargeIsRefusedNamingIt) {
  // Past the limit inside the document, and after a whole document (white space only: the
  // reader stops at the limit where the document could have ended).
  for (const std::string& text :
       {"{\"format\": 2, \"boot_id\": \"\", \"entries\": [" + std::string(17u << 20, ' ') + "]}",
        "{\"format\": 2, \"boot_id\": \"\", \"entries\": []}" + std::string(17u << 20, ' ')}) {
    TempDir d;
    write_text(d / "journal.json", text);
    auto j = Journal::load(d.path());
    ASSERT_FALSE(j.ok());
    EXPECT_NE(j.error().text().find(d / "journal.json"), std::string::npos) << j.error().text();
    EXPECT_NE(j.error().text().find("larger than"), std::string::npos) << j.error().text();
  }
}

TEST(JournalFile, FormatOneIsReadAsThisBoot) {
  TempDir d;
  write_text(d / "journal.json", R"({"format": 1, "entries": [
    {"target": "proc/sys/net/core/dev_weight", "kind": "sysctl", "nic": "", "original": "64"}]})");
  auto j = Journal::load(d.path(), JournalContext{kBootB, {}});
  ASSERT_TRUE(j.ok()) << j.error().text();
  EXPECT_EQ(j->entries().size(), 1u);
  EXPECT_TRUE(j->stale().empty());
}

TEST(JournalBoots, EntriesOfAnEarlierBootAreStaleAndTheFirstApplyOfThisBootWins) {
  TempDir d;
  write_text(d / "journal.json", good_journal().dump());
  auto same = Journal::load(d.path(), JournalContext{kBootA, {}});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->entries().size(), 6u);

  auto j = Journal::load(d.path(), JournalContext{kBootB, {}});
  ASSERT_TRUE(j.ok()) << j.error().text();
  EXPECT_TRUE(j->entries().empty());
  ASSERT_EQ(j->stale().size(), 6u);
  EXPECT_NE(j->stale()[0].why.find("earlier boot"), std::string::npos) << j->stale()[0].why;
  EXPECT_FALSE(j->has(target_at("proc/sys/net/core/netdev_budget")));
  // This boot's original for the same target is recorded (the earlier one does not win).
  ASSERT_TRUE(j->record({journal_entry("proc/sys/net/core/netdev_budget", SettingKind::Sysctl, "", "50000")}).ok());
  const json saved = json::parse(read_text(d / "journal.json"));
  EXPECT_EQ(saved["boot_id"], kBootB);
  ASSERT_EQ(saved["entries"].size(), 1u);
  EXPECT_EQ(saved["entries"][0]["original"], "50000");
}

TEST(JournalBoots, ForgettingNothingStillDropsStaleEntries) {
  TempDir d;
  write_text(d / "journal.json", good_journal().dump());
  auto j = Journal::load(d.path(), JournalContext{kBootB, {}});
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE(j->forget({}).ok());
  const json saved = json::parse(read_text(d / "journal.json"));
  EXPECT_EQ(saved["boot_id"], kBootB);
  EXPECT_TRUE(saved["entries"].empty());
}

TEST(JournalDevices, ANicWithAnotherIfindexIsAnotherDevice) {
  TempDir d;
  write_text(d / "journal.json", good_journal().dump());
  auto j = Journal::load(d.path(), JournalContext{kBootA, {{"eth0", 7}}});
  ASSERT_TRUE(j.ok());
  ASSERT_EQ(j->entries().size(), 1u) << "the sysctl stays";
  ASSERT_EQ(j->stale().size(), 5u);
  EXPECT_NE(j->stale()[0].why.find("eth0 is another device now (ifindex 7, was 2)"), std::string::npos)
      << j->stale()[0].why;
  // The new device's originals are recorded with its ifindex.
  ASSERT_TRUE(j->record({journal_entry("ethtool:eth0:channels", SettingKind::Channels, "eth0", "rx 0 tx 0 other 0 combined 4")}).ok());
  const json saved = json::parse(read_text(d / "journal.json"));
  ASSERT_EQ(saved["entries"].size(), 2u);
  EXPECT_EQ(saved["entries"][1]["ifindex"], 7);
  EXPECT_EQ(saved["entries"][1]["original"], "rx 0 tx 0 other 0 combined 4");
  // Same ifindex, or unknown (0): the same device.
  auto same = Journal::load(d.path(), JournalContext{kBootA, {{"eth0", 7}}});
  EXPECT_EQ(same->entries().size(), 2u);
  auto unknown = Journal::load(d.path(), JournalContext{kBootA, {{"eth0", 0}}});
  EXPECT_EQ(unknown->entries().size(), 2u);
}

// The targets of the good journal, as the plan names them, in its order.
std::vector<Target> good_journal_targets() {
  return {Target(SettingKind::Channels, "eth0", -1, 0, nullptr), Target(SettingKind::Xps, "eth0", 0, 0, nullptr),
          Target(SettingKind::RpsCpus, "eth0", 0, 0, nullptr), Target(SettingKind::RpsFlowCnt, "eth0", 0, 0, nullptr),
          Target(SettingKind::IrqAffinity, "eth0", 0, 25, nullptr),
          Target(SettingKind::Sysctl, "", -1, 0, find_sysctl_row("netdev_budget"))};
}

// The paths of those of `candidates` that t holds.
std::vector<std::string> held(const JournalTargets& t, const std::vector<Target>& candidates) {
  std::vector<std::string> out;
  for (const auto& c : candidates)
    if (t.has(c)) out.push_back(c.path());
  return out;
}

// status reads only the live entries' targets: the same entries as load() keeps live, in every
// context, and the same refusals, originals included; the file is left as it was.
TEST(JournalTargets, TheLiveEntriesOfLoadAndItsRefusals) {
  TempDir d;
  const std::string text = good_journal().dump();
  write_text(d / "journal.json", text);
  const std::vector<std::string> all = {"ethtool:eth0:channels", "sys/class/net/eth0/queues/tx-0/xps_cpus",
                                        "sys/class/net/eth0/queues/rx-0/rps_cpus",
                                        "sys/class/net/eth0/queues/rx-0/rps_flow_cnt", "proc/irq/25/smp_affinity",
                                        "proc/sys/net/core/netdev_budget"};
  const std::pair<JournalContext, std::vector<std::string>> contexts[] = {
      {{kBootA, {}}, all},
      {{kBootB, {}}, {}},                                                  // recorded in an earlier boot
      {{kBootA, {{"eth0", 7}}}, {"proc/sys/net/core/netdev_budget"}},     // eth0 is another device now
      {{kBootA, {{"eth0", 2}}}, all},
      {{"", {{"eth0", 0}}}, all}};                                         // neither boot nor device known
  for (const auto& [ctx, want] : contexts) {
    const std::string what = ctx.boot_id + " with " + std::to_string(ctx.ifindex.size()) + " NIC(s)";
    auto t = Journal::live_targets(d.path(), ctx);
    ASSERT_TRUE(t.ok()) << t.error().text();
    EXPECT_EQ(t->size(), want.size()) << what;
    EXPECT_EQ(held(*t, good_journal_targets()), want) << what;
    auto j = Journal::load(d.path(), ctx);
    ASSERT_TRUE(j.ok()) << j.error().text();
    std::vector<std::string> live;
    for (const auto& e : j->entries()) live.push_back(e.path());
    EXPECT_EQ(live, want) << what;
  }
  EXPECT_EQ(read_text(d / "journal.json"), text) << "reading the targets changes nothing";

  for (const auto& c : refusals()) {
    json j = good_journal();
    c.edit(j);
    write_text(d / "journal.json", j.dump());
    auto t = Journal::live_targets(d.path(), {kBootA, {}});
    EXPECT_FALSE(t.ok()) << c.what;
    if (t.ok()) continue;
    EXPECT_NE(t.error().text().find(c.says), std::string::npos) << c.what << ": " << t.error().text();
    EXPECT_NE(t.error().text().find(d / "journal.json"), std::string::npos) << t.error().text();
  }
  // Entries read before the format turns out to be 1 are read again as format 1: an original
  // is still checked on that path.
  write_text(d / "journal.json", R"({"entries": [{"target": "proc/sys/net/core/dev_weight", "kind": "sysctl", "nic": "", "original": "64; reboot"}], "format": 1})");
  auto bad = Journal::live_targets(d.path(), {kBootA, {}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().text().find("is not a number"), std::string::npos) << bad.error().text();
  write_text(d / "journal.json", R"({"entries": [{"target": "proc/sys/net/core/dev_weight", "kind": "sysctl", "nic": "", "original": "64"}], "format": 1})");
  auto one = Journal::live_targets(d.path(), {kBootA, {}});
  ASSERT_TRUE(one.ok()) << one.error().text();
  EXPECT_EQ(one->size(), 1u);
  EXPECT_TRUE(one->has(Target(SettingKind::Sysctl, "", -1, 0, find_sysctl_row("dev_weight"))));
  fs::remove(d / "journal.json");
  auto none = Journal::live_targets(d.path(), {kBootA, {}});
  ASSERT_TRUE(none.ok()) << none.error().text();
  EXPECT_EQ(none->size(), 0u);
  EXPECT_EQ(held(*none, good_journal_targets()), std::vector<std::string>{});
}

// Status and revert judge entries by the system under the root: its boot id, and the ifindex now
// of each NIC the journal names.
TEST(JournalTargets, TheSystemUnderTheRootSaysWhichEntriesAreLive) {
  TempDir state, root;
  write_text(state / "journal.json", good_journal().dump());
  const SysRoot sys(root.path());
  const auto live = [&] {
    auto t = Journal::live_targets(state.path(), sys);
    EXPECT_TRUE(t.ok()) << t.error().text();
    auto j = Journal::load(state.path(), sys);
    EXPECT_TRUE(j.ok()) << j.error().text();
    std::vector<std::string> loaded;
    for (const auto& e : j->entries()) loaded.push_back(e.path());
    EXPECT_EQ(loaded, held(*t, good_journal_targets()));
    EXPECT_EQ(t->size(), loaded.size());
    return loaded;
  };
  const std::vector<std::string> all = live();
  EXPECT_EQ(all.size(), 6u) << "neither boot nor device known: every entry";
  write_text(root / "proc/sys/kernel/random/boot_id", std::string(kBootA) + "\n");
  write_text(root / "sys/class/net/eth0/ifindex", "2\n");
  EXPECT_EQ(live(), all) << "the same boot and device";
  write_text(root / "sys/class/net/eth0/ifindex", "7\n");
  EXPECT_EQ(live(), std::vector<std::string>{"proc/sys/net/core/netdev_budget"}) << "eth0 is another device now";
  write_text(root / "sys/class/net/eth0/ifindex", "2\n");
  write_text(root / "proc/sys/kernel/random/boot_id", std::string(kBootB) + "\n");
  EXPECT_EQ(live(), std::vector<std::string>{}) << "another boot";
}

// A journal target is held exactly when its path is: every part of a target (kind, NIC, queue,
// IRQ, sysctl) tells it from another, except the NIC of an IRQ, which its path does not name.
TEST(JournalTargets, HoldExactlyTheTargetsWhosePathsTheEntriesHold) {
  const std::vector<Target> good = good_journal_targets();
  const json doc = good_journal();
  std::vector<JournalEntry> entries;
  for (size_t i = 0; i < good.size(); ++i) {
    ASSERT_EQ(good[i].path(), doc["entries"][i]["target"]) << i;
    entries.push_back(journal_entry(doc["entries"][i]["target"].get<std::string>(), good[i].kind, doc["entries"][i]["nic"].get<std::string>(), {}, 0));
  }
  // eth1 comes second among the NICs: its keys are not eth0's.
  entries.push_back(journal_entry("sys/class/net/eth1/queues/tx-3/xps_cpus", SettingKind::Xps, "eth1", {}, 0));
  entries.push_back(journal_entry("proc/irq/40/smp_affinity", SettingKind::IrqAffinity, "eth1", {}, 0));
  const JournalTargets t(entries);
  EXPECT_EQ(t.size(), entries.size());
  for (const auto& g : good) EXPECT_TRUE(t.has(g)) << g.path();
  EXPECT_TRUE(t.has(Target(SettingKind::Xps, "eth1", 3, 0, nullptr)));
  EXPECT_TRUE(t.has(Target(SettingKind::IrqAffinity, "eth1", 0, 25, nullptr))) << "an IRQ's path names no NIC";
  EXPECT_TRUE(t.has(Target(SettingKind::IrqAffinity, "eth0", 0, 40, nullptr))) << "an IRQ's path names no NIC";
  const Target near_misses[] = {
      Target(SettingKind::Xps, "eth0", 3, 0, nullptr),           // eth1's queue
      Target(SettingKind::Xps, "eth0", 1, 0, nullptr),           // another queue
      Target(SettingKind::XpsRxqs, "eth0", 0, 0, nullptr),       // another file of the same queue
      Target(SettingKind::RpsCpus, "eth1", 0, 0, nullptr),       // another NIC
      Target(SettingKind::Channels, "eth1", -1, 0, nullptr),     // another NIC's channels
      Target(SettingKind::Channels, "eth2", -1, 0, nullptr),     // a NIC the journal never names
      Target(SettingKind::IrqAffinity, "eth0", 0, 26, nullptr),  // another IRQ
      Target(SettingKind::Sysctl, "", -1, 0, find_sysctl_row("netdev_budget_usecs")),
      // netdev_budget's row, as an IRQ: only the kind tells them apart.
      Target(SettingKind::IrqAffinity, "", -1, static_cast<unsigned>(find_sysctl_row("netdev_budget") - kSysctls), nullptr),
      // tx-3 of eth1, as an rx queue file of eth1.
      Target(SettingKind::RpsCpus, "eth1", 3, 0, nullptr),
  };
  for (const auto& m : near_misses) EXPECT_FALSE(t.has(m)) << m.path() << " (" << m.label() << ")";

  // Past what fits in 4 bytes: the 256th NIC and beyond, the last queue (32767), IRQ 9999999
  // (load() allows 7 digits).
  std::vector<JournalEntry> many;
  for (int n = 0; n < 300; ++n) {
    const std::string nic = "n" + std::to_string(n);
    many.push_back(journal_entry("ethtool:" + nic + ":channels", SettingKind::Channels, nic, {}, 0));
  }
  many.push_back(journal_entry("sys/class/net/n0/queues/rx-32767/rps_cpus", SettingKind::RpsCpus, "n0", {}, 0));
  many.push_back(journal_entry("proc/irq/9999999/smp_affinity", SettingKind::IrqAffinity, "n299", {}, 0));
  many.push_back(journal_entry("sys/class/net/n0/queues/tx-32767/xps_cpus", SettingKind::Xps, "n0", {}, 0));
  const JournalTargets wide(many);
  EXPECT_EQ(wide.size(), many.size());
  for (int n : {0, 254, 255, 256, 299}) {
    EXPECT_TRUE(wide.has(Target(SettingKind::Channels, "n" + std::to_string(n), -1, 0, nullptr))) << n;
    EXPECT_FALSE(wide.has(Target(SettingKind::RpsCpus, "n" + std::to_string(n), 0, 0, nullptr))) << n;
  }
  EXPECT_FALSE(wide.has(Target(SettingKind::Channels, "n300", -1, 0, nullptr)));
  EXPECT_TRUE(wide.has(Target(SettingKind::RpsCpus, "n0", 32767, 0, nullptr)));
  EXPECT_FALSE(wide.has(Target(SettingKind::RpsCpus, "n1", 32767, 0, nullptr)));
  EXPECT_TRUE(wide.has(Target(SettingKind::IrqAffinity, "n0", 0, 9999999, nullptr)));
  EXPECT_FALSE(wide.has(Target(SettingKind::IrqAffinity, "n0", 0, 9999998, nullptr)));
  // 9999999 needs 24 bits: kept wide, not cut to its low 21 (1611391) in a narrow key.
  EXPECT_FALSE(wide.has(Target(SettingKind::IrqAffinity, "", -1, 9999999u & 0x1fffffu, nullptr)));
  EXPECT_TRUE(wide.has(Target(SettingKind::Xps, "n0", 32767, 0, nullptr)));
  EXPECT_FALSE(wide.has(Target(SettingKind::Xps, "n1", 32767, 0, nullptr)));
  EXPECT_FALSE(wide.has(Target(SettingKind::Xps, "n0", 0, 0, nullptr)));
}

// record(): only targets not yet journalled are added, in the order given, after those already
// there; the first original of a target wins, within one call too.
TEST(JournalRecord, NewTargetsAreAddedInOrderAndTheFirstOriginalWins) {
  TempDir d;
  const auto sysctl = [](const char* name, const char* original) {
    return journal_entry(std::string("proc/sys/net/core/") + name, SettingKind::Sysctl, "", original);
  };
  auto j = Journal::load(d.path(), JournalContext{kBootA, {}});
  ASSERT_TRUE(j.ok()) << j.error().text();
  ASSERT_TRUE(j->record({sysctl("netdev_budget", "300"), sysctl("dev_weight", "64"), sysctl("netdev_budget", "1")}).ok());
  ASSERT_TRUE(j->record({sysctl("dev_weight", "2"), sysctl("netdev_max_backlog", "1000"), sysctl("netdev_budget", "3"),
                         sysctl("netdev_budget_usecs", "2000")}).ok());
  // Nothing new: nothing to save (a save replaces the file, so the file would be another inode).
  struct stat before {}, after {};
  ASSERT_EQ(::stat((d / "journal.json").c_str(), &before), 0);
  ASSERT_TRUE(j->record({sysctl("dev_weight", "4")}).ok());
  ASSERT_EQ(::stat((d / "journal.json").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "a record of nothing new saved the journal";
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : j->entries()) got.emplace_back(e.path(), e.original);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"proc/sys/net/core/netdev_budget", "300"}, {"proc/sys/net/core/dev_weight", "64"},
      {"proc/sys/net/core/netdev_max_backlog", "1000"}, {"proc/sys/net/core/netdev_budget_usecs", "2000"}};
  EXPECT_EQ(got, want);
  auto again = Journal::load(d.path(), JournalContext{kBootA, {}});
  ASSERT_TRUE(again.ok()) << again.error().text();
  got.clear();
  for (const auto& e : again->entries()) got.emplace_back(e.path(), e.original);
  EXPECT_EQ(got, want) << "as saved";
  EXPECT_TRUE(again->has(target_at("proc/sys/net/core/netdev_budget_usecs")));
}

// has() and record() look targets up through an index of the entries in target order: it must
// answer for every target after records given out of order, overlapping batches and forgets.
TEST(JournalRecord, EveryTargetIsFoundAfterRecordsInAnyOrderAndForgets) {
  TempDir d;
  const auto path = [](unsigned q) { return "sys/class/net/eth0/queues/tx-" + std::to_string(q) + "/xps_cpus"; };
  const auto xps = [&](unsigned q, const std::string& original) {
    return journal_entry(path(q), SettingKind::Xps, "eth0", original);
  };
  auto j = Journal::load(d.path(), JournalContext{kBootA, {}});
  ASSERT_TRUE(j.ok()) << j.error().text();
  // Originals: 1 from the first batch, 2 the second, 4 a target given twice, 8 and 10 later.
  // Queues 0-59, then 40-99, each batch in a scrambled order.
  std::vector<JournalEntry> first, second;
  for (unsigned i = 0; i < 60; ++i) first.push_back(xps(i * 37 % 60, "1"));
  for (unsigned i = 0; i < 60; ++i) second.push_back(xps(40 + i * 23 % 60, "2"));
  // Targets given twice in a batch longer than a sort by insertion: the first of them wins.
  second.push_back(xps(70, "4"));
  second.push_back(xps(45, "4"));
  second.insert(second.begin() + 30, xps(99, "4"));
  ASSERT_TRUE(j->record(first).ok());
  ASSERT_TRUE(j->record(second).ok());
  // Stored in the order given.
  for (unsigned i = 0; i < 60; ++i) EXPECT_EQ(j->entries()[i].path(), path(i * 37 % 60)) << i;
  for (unsigned q = 0; q < 100; ++q) EXPECT_TRUE(j->has(target_at(path(q)))) << q;
  for (const Target& absent : {Target(SettingKind::Xps, "eth0", 100, 0, nullptr), Target(SettingKind::XpsRxqs, "eth0", 1, 0, nullptr),
                               Target(SettingKind::Xps, "eth1", 1, 0, nullptr), Target(SettingKind::RpsCpus, "eth0", 1, 0, nullptr)})
    EXPECT_FALSE(j->has(absent)) << absent.path();
  std::map<std::string, std::string> original;
  for (const auto& e : j->entries()) EXPECT_TRUE(original.emplace(e.path(), e.original.str()).second) << e.path();
  ASSERT_EQ(original.size(), 100u);
  for (unsigned q = 0; q < 100; ++q) EXPECT_EQ(original[path(q)], q < 60 ? "1" : "2") << q;

  std::vector<const JournalEntry*> drop;
  for (const auto& e : j->entries())
    if (e.path() == path(5) || e.path() == path(77)) drop.push_back(&e);
  ASSERT_EQ(drop.size(), 2u);
  ASSERT_TRUE(j->forget(drop).ok());
  for (unsigned q = 0; q < 100; ++q) EXPECT_EQ(j->has(target_at(path(q))), q != 5 && q != 77) << q;
  ASSERT_TRUE(j->record({xps(77, "8"), xps(3, "10")}).ok());
  for (unsigned q = 0; q < 100; ++q) EXPECT_EQ(j->has(target_at(path(q))), q != 5) << q;
  ASSERT_EQ(j->entries().size(), 99u);
  EXPECT_EQ(j->entries().back().path(), path(77));
  EXPECT_EQ(j->entries().back().original, "8");
  // As saved.
  auto again = Journal::load(d.path(), JournalContext{kBootA, {}});
  ASSERT_TRUE(again.ok()) << again.error().text();
  for (unsigned q = 0; q < 100; ++q) EXPECT_EQ(again->has(target_at(path(q))), q != 5) << q;
  ASSERT_EQ(again->entries().size(), 99u);
  for (size_t i = 0; i < again->entries().size(); ++i) {
    EXPECT_EQ(again->entries()[i].path(), j->entries()[i].path()) << i;
    EXPECT_EQ(again->entries()[i].original, j->entries()[i].original) << i;
  }
}

// Entries that go stale leave the index with the live entries: their targets are no longer
// found, and an apply journals them afresh.
TEST(JournalRecord, EntriesMadeStaleAreNotFoundAndAreRecordedAgain) {
  TempDir d;
  const auto xps = [](const std::string& nic, unsigned q) {
    return journal_entry("sys/class/net/" + nic + "/queues/tx-" + std::to_string(q) + "/xps_cpus", SettingKind::Xps,
                        nic, "1");
  };
  auto j = Journal::load(d.path(), JournalContext{kBootA, {{"eth0", 3}, {"eth1", 4}}});
  ASSERT_TRUE(j.ok()) << j.error().text();
  ASSERT_TRUE(j->record({xps("eth1", 0), xps("eth0", 0), xps("eth1", 1), xps("eth0", 1)}).ok());
  ASSERT_TRUE(j->has(xps("eth0", 1)));
  j->set_ifindexes({{"eth0", 9}});  // eth0 is another device now
  ASSERT_EQ(j->stale().size(), 2u);
  for (const auto& st : j->stale()) EXPECT_EQ(st.entry.nic, "eth0") << st.entry.path();
  for (unsigned q = 0; q < 2; ++q) {
    EXPECT_FALSE(j->has(xps("eth0", q))) << q;
    EXPECT_TRUE(j->has(xps("eth1", q))) << q;
  }
  ASSERT_TRUE(j->record({xps("eth0", 1)}).ok());
  EXPECT_TRUE(j->has(xps("eth0", 1)));
  ASSERT_EQ(j->entries().size(), 3u);
  EXPECT_EQ(j->entries().back().path(), xps("eth0", 1).path());
  EXPECT_EQ(j->entries().back().ifindex, 9u) << "journalled against the device eth0 is now";
  // Loaded again with the same devices: the three entries are live.
  auto again = Journal::load(d.path(), JournalContext{kBootA, {{"eth0", 9}, {"eth1", 4}}});
  ASSERT_TRUE(again.ok()) << again.error().text();
  EXPECT_EQ(again->entries().size(), 3u);
  EXPECT_TRUE(again->stale().empty());
}

TEST(BootId, ReadFromTheRootAndValidated) {
  TempDir d;
  EXPECT_EQ(read_boot_id(SysRoot(d.path())), "");
  write_text(d / "proc/sys/kernel/random/boot_id", std::string(kBootA) + "\n");
  EXPECT_EQ(read_boot_id(SysRoot(d.path())), kBootA);
  write_text(d / "proc/sys/kernel/random/boot_id", "not-a-boot-id\n");
  EXPECT_EQ(read_boot_id(SysRoot(d.path())), "");
}

// The same through the program, on a snapshot whose boot id changes as a reboot changes it.
class Reboot : public ::testing::Test {
 protected:
  void SetUp() override {
    named_fixtures().at("rhel7.4-combined-1-of-8").write(dir_.path());
    boot(kBootA);
  }
  void boot(const char* id) { write_text(dir_ / "proc/sys/kernel/random/boot_id", std::string(id) + "\n"); }
  CommandResult agent(const std::string& args) {
    return run_command(std::string(GN_AGENT_BIN) + " " + args + " --root " + dir_.path() + " --state-dir " +
                       dir_.path() + "/state --run-dir " + dir_.path() + "/run 2>&1");
  }
  std::string channels() const { return read_text(dir_ / "guest-nettune-snapshot/ethtool/eth0"); }
  std::string budget() const { return read_text(dir_ / "proc/sys/net/core/netdev_budget"); }
  TempDir dir_;
};

TEST_F(Reboot, RevertAfterARebootRestoresWhatThisBootHadBeforeItsFirstApply) {
  const std::string ch0 = channels(), b0 = budget();
  ASSERT_EQ(agent("apply --config ''").code, 0);
  const std::string ch1 = channels(), b1 = budget();
  ASSERT_NE(b1, b0);
  ASSERT_NE(ch1, ch0);
  // "Reboot" into a boot that (on this snapshot) starts with the values tuned: the earlier
  // boot's originals are not what it started with, so revert restores nothing.
  boot(kBootB);
  const CommandResult r = agent("revert");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("earlier boot"), std::string::npos) << r.out;
  EXPECT_EQ(budget(), b1);
  EXPECT_EQ(channels(), ch1);
  // The first apply of this boot (another profile) journals this boot's values; revert goes back to them.
  ASSERT_EQ(agent("apply --config '' --profile latency --channels 2").code, 0);
  EXPECT_EQ(json::parse(read_text(dir_ / "state/journal.json"))["boot_id"], kBootB);
  ASSERT_EQ(agent("revert").code, 0);
  EXPECT_EQ(budget(), b1);
  EXPECT_EQ(channels(), ch1);
}

TEST(ReapplyScopeRules, WhatAutomaticRunsMayTuneAfterEachAction) {
  ReapplyScope s;  // fresh install: everything
  EXPECT_TRUE(s.allows_nic("eth0"));
  EXPECT_TRUE(s.sysctls);
  s.reverted({"eth1"});
  EXPECT_TRUE(s.allows_nic("eth0"));
  EXPECT_FALSE(s.allows_nic("eth1"));
  EXPECT_TRUE(s.sysctls);
  s.applied({"eth1"});
  EXPECT_TRUE(s.allows_nic("eth1"));
  s.reverted({});
  EXPECT_TRUE(s.holds_everything());
  EXPECT_FALSE(s.allows_nic("eth0"));
  EXPECT_FALSE(s.allows_nic("eth9")) << "a NIC plugged after a revert is not tuned either";
  EXPECT_NE(s.describe().find("guest-nettune apply"), std::string::npos) << s.describe();
  s.applied({"eth0"});
  EXPECT_TRUE(s.allows_nic("eth0"));
  EXPECT_FALSE(s.allows_nic("eth1"));
  EXPECT_TRUE(s.sysctls);
  s.reverted({"eth0"});
  EXPECT_FALSE(s.allows_nic("eth0"));
  s.applied({});
  EXPECT_EQ(s, ReapplyScope{});
}

TEST(ReapplyScopeFile, RoundTripsAndRefusesAnythingElse) {
  TempDir d;
  auto absent = ReapplyScope::load(d.path());
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, ReapplyScope{});
  ReapplyScope s;
  s.reverted({"eth1", "eth2"});
  ASSERT_TRUE(s.save(d.path()).ok());
  auto back = ReapplyScope::load(d.path());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  for (const std::string bad :
       {"", "[]", R"({"format": 2, "all": true, "nics": [], "sysctls": true})",
        R"({"format": 1, "all": "yes", "nics": [], "sysctls": true})",
        R"({"format": 1, "all": true, "nics": ["../../etc"], "sysctls": true})",
        R"({"format": 1, "all": true, "nics": [1], "sysctls": true})",
        R"({"format": 1, "all": true, "nics": [], "sysctls": true, "run": "x"})",
        R"({"format": 1, "all": true, "sysctls": true})"}) {
    write_text(d / "reapply.json", bad);
    auto r = ReapplyScope::load(d.path());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().text().find(d / "reapply.json"), std::string::npos) << r.error().text();
    EXPECT_NE(r.error().text().find("guest-nettune apply"), std::string::npos) << r.error().text();
  }
}

// The program: automatic runs after a revert write nothing, an explicit apply resumes.
TEST_F(Reboot, AutomaticRunsAfterARevertWriteNothingUntilAnExplicitApply) {
  const std::string ch0 = channels(), b0 = budget();
  ASSERT_EQ(agent("apply --config ''").code, 0);
  ASSERT_EQ(agent("revert").code, 0);
  ASSERT_EQ(channels(), ch0);
  const CommandResult held = agent("apply --automatic --config '' --json");
  ASSERT_EQ(held.code, 0) << held.out;
  EXPECT_EQ(channels(), ch0);
  EXPECT_EQ(budget(), b0);
  EXPECT_NE(held.out.find("held since"), std::string::npos) << held.out;
  boot(kBootB);  // the hold survives a reboot
  ASSERT_EQ(agent("apply --automatic --config ''").code, 0);
  EXPECT_EQ(budget(), b0);
  ASSERT_EQ(agent("apply --config ''").code, 0);
  const std::string b1 = budget();
  EXPECT_NE(b1, b0);
  write_text(dir_ / "proc/sys/net/core/netdev_budget", b0);  // someone changes it; udev re-applies
  ASSERT_EQ(agent("apply --automatic --config ''").code, 0);
  EXPECT_EQ(budget(), b1);
}

}  // namespace
}  // namespace gn::test
