// The guest-nettune program as a user runs it: exit codes, one-line errors, help.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "fixture.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using Ran = CommandResult;

// The agent with these arguments; stdout and stderr together.
Ran run(const std::string& args) { return run_command(std::string(GN_AGENT_BIN) + " " + args + " 2>&1"); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override { named_fixtures().at("rhel8.0-9vcpu-4-queues").write(dir_.path()); }
  std::string root() const { return "--root " + dir_.path(); }
  TempDir dir_;
};

TEST_F(Cli, PlansASnapshot) {
  const Ran r = run("plan " + root());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("combined 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/sys/class/net/eth0/queues/tx-3/xps_cpus"), std::string::npos) << r.out;
  const Ran j = run("plan --json " + root());
  ASSERT_EQ(j.code, 0) << j.out;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["kernel"]["driver_behaviour"], "xps-only-when-equal");
  EXPECT_GT(doc["summary"]["write"].get<int>(), 0);
}

TEST_F(Cli, BadInputIsRefusedWithExitTwoAndOneLine) {
  struct Case {
    std::string args;
    std::string says;
  } cases[] = {
      {"plan --interface nosuch " + root(), "no such interface"},
      {"plan --interface ../eth0 " + root(), "contains '..'"},
      {"plan --interface a/b " + root(), "contains '/'"},
      {"plan --interface abcdefghijklmnop " + root(), "longer than 15 bytes"},
      {"plan --profile fast " + root(), "unknown profile 'fast'"},
      {"plan --channels 0 " + root(), "--channels '0'"},
      {"plan --rps maybe " + root(), "--rps 'maybe'"},
      {"plan --rps-flow-entries 1000 " + root(), "power of two"},
      {"plan --netdev-budget 0 " + root(), "out of range"},
      {"plan --frobnicate " + root(), "frobnicate"},
      {"frob", "unknown command 'frob'"},
  };
  for (const auto& c : cases) {
    const Ran r = run(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.args << "\n" << r.out;
  }
}

// Boost's own error text replaces placeholders until none is left, so a value holding one spun
// for ever (a boot-time hang, from a config file). The agent runs under `timeout`: a hang fails.
TEST_F(Cli, APlaceholderInAnOptionOrTheConfigIsRefusedNotHung) {
  const std::string agent = "timeout 60 " + std::string(GN_AGENT_BIN) + " ";
  Ran r = run_command(agent + "plan --netdev-budget '%value%' " + root() + " 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("the argument ('%value%') for option '--netdev-budget' is invalid"), std::string::npos) << r.out;

  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "netdev-budget = %value%\n");
  r = run_command(agent + "apply --dry-run " + root() + " 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("guest-nettune.conf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("('%value%')"), std::string::npos) << r.out;

  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "%canonical_option% = 1\n");
  r = run_command(agent + "status " + root() + " 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unrecognised option '%canonical_option%'"), std::string::npos) << r.out;
}

TEST_F(Cli, ConfigFileOverridesAndRefusesUnknownKeys) {
  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "profile = balanced\nchannels = 2\n");
  const Ran r = run("plan --json " + root());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["profile"], "balanced");
  bool saw = false;
  for (const auto& s : doc["settings"])
    if (s["kind"] == "channels") {
      EXPECT_EQ(s["desired"], "combined 2");
      saw = true;
    }
  EXPECT_TRUE(saw);
  // The command line wins over the file.
  const Ran cl = run("plan --json --profile latency " + root());
  EXPECT_EQ(nlohmann::json::parse(cl.out)["profile"], "latency");

  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "colour = blue\n");
  const Ran bad = run("plan " + root());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("guest-nettune.conf"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("colour"), std::string::npos) << bad.out;

  write_text(dir_ / "etc/guest-nettune/guest-nettune.conf", "netdev-budget = -5\n");
  const Ran range = run("plan " + root());
  EXPECT_EQ(range.code, 2);
  EXPECT_NE(range.out.find("out of range"), std::string::npos) << range.out;
}

TEST_F(Cli, MalformedKernelTextNamesTheFile) {
  write_text(dir_ / "proc/interrupts", "garbage\n");
  const Ran r = run("plan " + root());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(dir_.path() + "/proc/interrupts"), std::string::npos) << r.out;
  write_text(dir_ / "sys/devices/system/cpu/online", "0-x\n");
  const Ran c = run("plan " + root());
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.out.find("sys/devices/system/cpu/online"), std::string::npos) << c.out;
}

TEST_F(Cli, HelpAndVersion) {
  const Ran top = run("--help");
  EXPECT_EQ(top.code, 0);
  for (const char* cmd : {"plan", "apply", "revert", "status", "capture", "Exit codes"})
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
  const Ran plan = run("plan --help");
  EXPECT_EQ(plan.code, 0);
  EXPECT_NE(plan.out.find("--rps-flow-entries"), std::string::npos);
  const Ran v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("guest-nettune "), std::string::npos);
}

// -v is offered by the commands whose output it changes, and says truly what it adds (status and
// check: when a sample starts, which a script waits for before it sends traffic).
TEST_F(Cli, VerboseIsOfferedWhereItChangesTheOutput) {
  const Ran quiet = run("apply --dry-run --profile observe --config '' " + root());
  const Ran loud = run("apply --dry-run -v --profile observe --config '' " + root());
  ASSERT_EQ(quiet.code, 0) << quiet.out;
  ASSERT_EQ(loud.code, 0) << loud.out;
  EXPECT_EQ(quiet.out, "") << quiet.out;  // the observe profile writes nothing: nothing to say
  EXPECT_NE(loud.out.find("skipped "), std::string::npos) << loud.out;
  EXPECT_NE(run("apply --help").out.find("each setting left alone"), std::string::npos);
  EXPECT_NE(run("revert --help").out.find("forgotten or dropped"), std::string::npos);
  for (const char* cmd : {"status", "check"}) {
    EXPECT_NE(run(std::string(cmd) + " --help").out.find("with --sample: say on standard error"), std::string::npos) << cmd;
    const Ran sampled = run(std::string(cmd) + " --sample 0.05 --json -v " + root());
    EXPECT_NE(sampled.out.find("sampling counters for 0.05 s"), std::string::npos) << cmd << "\n" << sampled.out;
    const Ran still = run(std::string(cmd) + " --sample 0.05 --json " + root());
    EXPECT_EQ(still.out.find("sampling counters"), std::string::npos) << cmd << "\n" << still.out;
  }
  for (const char* cmd : {"plan", "capture"}) {
    EXPECT_EQ(run(std::string(cmd) + " --help").out.find("--verbose"), std::string::npos) << cmd;
    const Ran r = run(std::string(cmd) + " -v " + root());
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
  }
}

// The kernel takes any bytes in a NIC name but '/', ':' and white space. A name with an escape
// sequence or bytes that are not UTF-8 reaches neither the terminal nor the JSON as it is, and
// its NIC is left alone; the others are planned as ever.
TEST(CliNames, ANameThatIsNotPlainTextIsShownEscapedAndLeftAlone) {
  Fixture f;
  const char* names[] = {"eth0", "e\x1b]0;owned\x07", "b\xff\x9bX"};
  for (unsigned i = 0; i < 3; ++i) {
    FixtureNic n;
    n.name = names[i];
    n.virtio_index = i;
    n.max_queues = n.queues = 4;
    f.nics.push_back(n);
  }
  TempDir dir;
  f.write(dir.path());
  const std::string root = " --root " + dir.path() + " --config ''";

  const auto hazard = [](const std::string& out) -> std::string {
    for (unsigned char c : out)
      if ((c < 0x20 && c != '\n') || c >= 0x7f) return "byte " + std::to_string(c);
    return "";
  };
  for (const char* cmd : {"plan", "status", "check"}) {
    const Ran r = run(std::string(cmd) + root);
    EXPECT_NE(r.code, 1) << cmd << "\n" << r.out;
    EXPECT_EQ(hazard(r.out), "") << cmd << "\n" << r.out;
    if (std::string(cmd) != "check") {  // check names only the NICs it has findings for
      EXPECT_NE(r.out.find("e\\x1b]0;owned\\x07"), std::string::npos) << cmd << "\n" << r.out;
    }
  }
  const Ran j = run("plan --json" + root);
  ASSERT_EQ(j.code, 0) << j.out;
  const auto doc = nlohmann::json::parse(j.out);
  std::map<std::string, std::string> role;
  for (const auto& n : doc["nics"]) role[n["name"].get<std::string>()] = n["role"].get<std::string>();
  EXPECT_EQ(role["eth0"], "tunable");
  EXPECT_EQ(role["e\\x1b]0;owned\\x07"], "other");
  EXPECT_EQ(role["b\\xff\\x9bX"], "other");
  bool eth0_written = false;
  for (const auto& s : doc["settings"]) {
    const std::string target = s["target"];
    EXPECT_EQ(target.find("owned"), std::string::npos) << target;
    EXPECT_EQ(target.find('X'), std::string::npos) << target;
    eth0_written |= s["action"] == "write" && target.find("eth0") != std::string::npos;
  }
  EXPECT_TRUE(eth0_written);
}

// apply writes one document onto the status file and --json (the same bytes, the same time);
// status shows it: the table and Prometheus the members they read, --json the whole document.
TEST_F(Cli, ApplyWritesOneDocumentAndStatusShowsIt) {
  const std::string dirs = root() + " --state-dir " + dir_.path() + "/state --run-dir " + dir_.path() + "/run";
  const auto stdout_of = [&](const std::string& args) {
    return run_command(std::string(GN_AGENT_BIN) + " " + args + " " + dirs + " 2>/dev/null");
  };
  const auto a = stdout_of("apply --json");
  ASSERT_EQ(a.code, 0) << a.out;
  const std::string file = read_text(dir_ / "run/guest-nettune/status.json");
  EXPECT_EQ(a.out, file);
  const auto doc = nlohmann::json::parse(file);
  const int writes = doc["summary"]["writes"].get<int>();
  ASSERT_GT(writes, 0) << file;

  const auto table = stdout_of("status");
  EXPECT_NE(table.out.find("last apply: ok at " + doc["time"].get<std::string>() + " (" + std::to_string(writes) +
                           " written, 0 failed)\n"),
            std::string::npos)
      << table.out;
  const auto prom = stdout_of("status --prometheus");
  EXPECT_NE(prom.out.find("guest_nettune_last_apply_success 1\n"), std::string::npos) << prom.out;
  EXPECT_NE(prom.out.find("guest_nettune_last_apply_timestamp_seconds " + std::to_string(doc["epoch"].get<long long>()) +
                          "\n"),
            std::string::npos)
      << prom.out;
  const auto json = stdout_of("status --json");
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_EQ(nlohmann::json::parse(json.out)["last_apply"], doc);
  // Copied from the file into the output at its depth: the whole is nlohmann's layout.
  EXPECT_EQ(nlohmann::json::parse(json.out).dump(2) + "\n", json.out);
  // The journal as status reads it: every entry counted, nothing drifted. Then one written mask
  // changed behind the agent's back: drift, blamed on someone else (not "not applied yet": the
  // journal holds it; not the driver: 4.18 does not rewrite XPS).
  const auto journal = nlohmann::json::parse(read_text(dir_ / "state/journal.json"));
  const auto after = nlohmann::json::parse(json.out);
  EXPECT_EQ(after["journal_entries"], journal["entries"].size());
  EXPECT_GT(journal["entries"].size(), 4u);
  EXPECT_EQ(after["summary"]["drift"], 0) << json.out;
  write_text(dir_ / "sys/class/net/eth0/queues/tx-1/xps_cpus", "1\n");
  const auto drifted = nlohmann::json::parse(stdout_of("status --json").out);
  std::vector<std::string> causes;
  for (const auto& s : drifted["settings"])
    if (s["state"] == "drift") causes.push_back(s["target"].get<std::string>() + ": " + s["drift_cause"].get<std::string>());
  EXPECT_EQ(causes, std::vector<std::string>{"/sys/class/net/eth0/queues/tx-1/xps_cpus: changed by something else since the last apply"});

  // A status file the agent did not write: keys out of order are laid out sorted, anything that
  // is not JSON shows as no last apply.
  std::ofstream(dir_ / "run/guest-nettune/status.json") << R"({"time": "t", "result": "ok", "epoch": 5})";
  const auto unsorted = stdout_of("status --json");
  ASSERT_EQ(unsorted.code, 0) << unsorted.out;
  EXPECT_EQ(nlohmann::json::parse(unsorted.out)["last_apply"], (nlohmann::json{{"epoch", 5}, {"result", "ok"}, {"time", "t"}}));
  EXPECT_EQ(nlohmann::json::parse(unsorted.out).dump(2) + "\n", unsorted.out);
  std::ofstream(dir_ / "run/guest-nettune/status.json") << R"({"epoch": 5, "result": )";
  const auto garbage = stdout_of("status --json");
  ASSERT_EQ(garbage.code, 0) << garbage.out;
  EXPECT_TRUE(nlohmann::json::parse(garbage.out)["last_apply"].is_null()) << garbage.out;
}

// A journal that cannot be read is said in every output of status, so that a person and a
// monitoring system can each tell it from a journal that holds nothing.
TEST_F(Cli, StatusSaysWhenItCannotReadTheJournal) {
  const std::string dirs = root() + " --state-dir " + dir_.path() + "/state --run-dir " + dir_.path() + "/run";
  const auto stdout_of = [&](const std::string& args) {
    return run_command(std::string(GN_AGENT_BIN) + " " + args + " " + dirs + " 2>/dev/null");
  };
  ASSERT_EQ(run("apply " + dirs).code, 0);
  const std::string journal = dir_.path() + "/state/journal.json";
  const Ran fine = run("status " + dirs);
  ASSERT_EQ(fine.code, 0) << fine.out;
  EXPECT_EQ(fine.out.find("journal"), std::string::npos) << fine.out;
  EXPECT_FALSE(nlohmann::json::parse(stdout_of("status --json").out).contains("journal_error"));
  EXPECT_NE(stdout_of("status --prometheus").out.find("\nguest_nettune_journal_readable 1\n"), std::string::npos);

  std::ofstream(journal) << R"({"format": 2, "entries": )";
  const Ran table = run("status " + dirs);
  EXPECT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("journal unreadable: " + journal + ": is not JSON"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("original value(s) kept"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("warning"), std::string::npos) << "said once, in the table: " << table.out;
  const auto json = stdout_of("status --json");
  ASSERT_EQ(json.code, 0);
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["journal_entries"], 0);
  EXPECT_EQ(doc["journal_error"].get<std::string>().rfind(journal + ": is not JSON", 0), 0u) << json.out;
  EXPECT_EQ(doc.dump(2) + "\n", json.out) << "the field in its sorted place";
  const Ran json_err = run_command(std::string(GN_AGENT_BIN) + " status --json " + dirs + " 2>&1 >/dev/null");
  EXPECT_NE(json_err.out.find("warning: " + journal), std::string::npos) << json_err.out;
  EXPECT_NE(stdout_of("status --prometheus").out.find("\nguest_nettune_journal_readable 0\n"), std::string::npos);
}

TEST_F(Cli, CaptureThenPlan) {
  TempDir out;
  const Ran c = run("capture " + root() + " " + out.path() + "/snap");
  ASSERT_EQ(c.code, 0) << c.out;
  const Ran a = run("plan --json " + root());
  const Ran b = run("plan --json --root " + out.path() + "/snap");
  EXPECT_EQ(a.out, b.out);
}

}  // namespace
}  // namespace gn::test
