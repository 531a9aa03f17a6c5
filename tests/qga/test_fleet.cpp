// status --all over many guests: 200 scripted agents on unix sockets (mute, garbage, slow among
// them) through the real guest-nettune-host binary with --sockets; its memory with 16 guests
// flooding their channel at once; the table headings; the Prometheus exposition's escaping.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include <poll.h>
#include <unistd.h>

#include "clean_spawn.h"
#include "deadline.h"
#include "fake_agent.h"
#include "fleet.h"
#include "fleet_render.h"
#include "host_cli.h"
#include "socket_channel.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using nlohmann::json;
using namespace gn::qga;

struct Fleet {
  TempDir dir;
  std::vector<std::unique_ptr<FakeAgent>> agents;
  void add(const std::string& name, FakeAgent::Handler h) {
    agents.push_back(std::make_unique<FakeAgent>(std::move(h), dir / (name + ".sock")));
  }
  std::string glob() const { return dir.path() + "/*.sock"; }
};

std::string name_of(int i, const char* kind) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%03d", kind, i);
  return buf;
}

// The real binary, its exit code, output and peak RSS (from wait4's rusage, taken by peak-rss:
// a child of this big test process would count its memory too).
struct Spawned {
  int code = -1;
  std::string out;
  long max_rss_kb = 0;
};
Spawned spawn_host(const std::vector<std::string>& args, const std::string& out_file) {
  std::string line = std::string(GN_PEAK_RSS_BIN) + " '" + out_file + "' " + GN_HOST_BIN;
  for (const auto& a : args) line += " '" + a + "'";
  const CommandResult r = run_command(line);
  Spawned s;
  if (std::sscanf(r.out.c_str(), "exit=%d max_rss_kb=%ld", &s.code, &s.max_rss_kb) != 2) s.code = -1;
  s.out = read_text(out_file);
  return s;
}

TEST(FleetAll, TwoHundredGuestsEveryRowWithItsClass) {
  Fleet fleet;
  const std::string ok_reply = FakeAgent::sample_status().dump();
  std::map<std::string, std::string> expected;  // row name -> class
  for (int i = 0; i < 180; ++i) {
    fleet.add(name_of(i, "ok"), FakeAgent::normal(FakeAgent::exited(ok_reply)));
    expected[fleet.dir / (name_of(i, "ok") + ".sock")] = "ok";
  }
  for (int i = 0; i < 10; ++i) {
    fleet.add(name_of(i, "mute"), FakeAgent::mute());
    expected[fleet.dir / (name_of(i, "mute") + ".sock")] = "no_agent";
  }
  for (int i = 0; i < 5; ++i) {
    fleet.add(name_of(i, "garbage"), FakeAgent::garbage());
    expected[fleet.dir / (name_of(i, "garbage") + ".sock")] = "bad_reply";
  }
  for (int i = 0; i < 5; ++i) {
    fleet.add(name_of(i, "slow"), FakeAgent::slow(FakeAgent::exited(ok_reply), 0.5));
    expected[fleet.dir / (name_of(i, "slow") + ".sock")] = "ok";
  }
  // Asked one at a time, the mute and slow guests alone take 10 x 3 s + 5 x 0.5 s = 32.5 s; 16 at
  // a time, about 3 s. The 15 s --deadline turns a run that does not overlap its guests into
  // "timeout" rows, which the class comparison below catches (no timing is asserted).
  const Spawned r = spawn_host({"--sockets", fleet.glob(), "--timeout", "3", "--deadline", "15", "--json", "status"},
                               fleet.dir / "out.json");
  EXPECT_EQ(r.code, host_exit::kSomeDomains) << r.out;
  const json rows = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(rows.is_array()) << r.out;
  ASSERT_EQ(rows.size(), 200u);
  std::map<std::string, std::string> got;
  for (const auto& row : rows) {
    got[row["domain"]] = row["answer"];
    if (row["answer"] == "no_agent") {
      EXPECT_NE(row["error"].get<std::string>().find("no answer before the deadline"), std::string::npos) << row;
    }
    if (row["answer"] == "ok") {
      EXPECT_EQ(row["queues"], "eth0:4/4") << row;
    }
  }
  EXPECT_EQ(got, expected);
}

// A poll for remaining_ms() that times out has passed the deadline: the fleet tells a guest cut
// at the run's --deadline from one that ran out its own time by asking passed() after the wait
// (a wait that woke a fraction of a millisecond early was once called "no_agent").
TEST(Deadline, APollForTheRemainingTimeEndsAtOrAfterIt) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  for (int i = 0; i < 50; ++i) {
    const gn::qga::Deadline d = gn::qga::Deadline::in(std::chrono::milliseconds(2));
    pollfd p{fds[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, d.remaining_ms()), 0);
    EXPECT_TRUE(d.passed()) << "wait " << i << " ended before its deadline";
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(FleetAll, OverallDeadlineEndsTheRunAndEveryGuestStillHasARow) {
  Fleet fleet;
  for (int i = 0; i < 3; ++i) fleet.add(name_of(i, "mute"), FakeAgent::mute());
  std::ostringstream out, err;
  HostOptions o;
  o.all = true;
  o.sockets = fleet.glob();
  o.parallel = 1;
  o.timeout = 2;  // guest 0 ends at its own 2 s, guest 1 is cut at 3.5 s (1.5 s of slack on a loaded machine)
  o.deadline = 3.5;
  o.json = true;
  std::vector<GuestSource> guests;
  const auto paths = sockets_matching(fleet.glob());
  ASSERT_TRUE(paths.ok());
  for (const auto& p : *paths)
    guests.push_back({p, [p]() -> Result<std::unique_ptr<AgentChannel>> {
                        return std::unique_ptr<AgentChannel>(std::make_unique<SocketChannel>(p));
                      }});
  ASSERT_EQ(guests.size(), 3u);
  EXPECT_EQ(run_host_fleet(o, guests, "sockets", out, err), host_exit::kSomeDomains);
  const json rows = json::parse(out.str());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["answer"], "no_agent");  // its own deadline
  // Cut in flight at the overall deadline, 1.5 s into its own 2 s (without the cut it would end
  // at 4 s as no_agent).
  EXPECT_EQ(rows[1]["answer"], "timeout") << rows[1];
  EXPECT_NE(rows[1]["error"].get<std::string>().find("cut short at the run's --deadline (3.5 s)"), std::string::npos)
      << rows[1];
  EXPECT_LT(rows[1]["seconds"].get<double>(), 2.0) << rows[1];
  EXPECT_EQ(rows[2]["answer"], "timeout") << rows[2];
  EXPECT_NE(rows[2]["error"].get<std::string>().find("--deadline"), std::string::npos) << rows[2];
  EXPECT_NE(err.str().find("3 of 3 guests did not report"), std::string::npos) << err.str();
}

// The timer's --output: a run that could not even list its guests leaves the last good file in
// place (its age is what the stale-export alert watches); a run with rows replaces it.
TEST(FleetOutput, ARunThatProducedNothingKeepsTheLastFile) {
  Fleet fleet;
  fleet.add(name_of(0, "ok"), FakeAgent::normal(FakeAgent::exited(FakeAgent::sample_status().dump())));
  const std::string prom = fleet.dir / "guests.prom";
  write_text(prom, "last good export\n");
  Spawned r = spawn_host({"--socket", fleet.dir / "no-such.sock", "--output", prom, "status"},
                         fleet.dir / "out.txt");
  EXPECT_EQ(r.code, host_exit::kNoAgent) << r.out;
  EXPECT_EQ(read_text(prom), "last good export\n");
  r = spawn_host({"--sockets", fleet.glob(), "--prometheus", "--output", prom, "status"}, fleet.dir / "out.txt");
  EXPECT_EQ(r.code, host_exit::kOk) << r.out;
  EXPECT_NE(read_text(prom).find("guest_nettune_guest_up{domain=\"" + (fleet.dir / "ok-000.sock") + "\"} 1"),
            std::string::npos)
      << read_text(prom);
}

TEST(FleetOutput, AMissingDirectoryIsRefusedNotCreatedAndDashIsStandardOutput) {
  Fleet fleet;
  fleet.add(name_of(0, "ok"), FakeAgent::normal(FakeAgent::exited(FakeAgent::sample_status().dump())));
  const std::string missing = fleet.dir / "node-exporte";
  const std::string host = std::string(GN_HOST_BIN) + " --sockets '" + fleet.glob() + "' --prometheus ";
  CommandResult r = run_command(host + "--output '" + missing + "/guests.prom' status 2>&1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("the directory " + missing + " does not exist"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(missing)) << "the mistyped directory was created";
  r = run_command("cd '" + fleet.dir.path() + "' && " + host + "--output - status");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("guest_nettune_guest_up{"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(fleet.dir / "-")) << "'-' was taken for a file name";
}

TEST(FleetSockets, APatternThatMatchesNothingIsSaidOnStandardError) {
  Fleet fleet;
  const CommandResult r = run_command(std::string(GN_HOST_BIN) + " --sockets '" + (fleet.dir / "*.qgaa") +
                                      "' --prometheus status 2>&1 >/dev/null");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no socket matches --sockets " + (fleet.dir / "*.qgaa")), std::string::npos) << r.out;
}

TEST(FleetMemory, SixteenFloodingGuestsStayUnder128MB) {
  Fleet fleet;
  for (int i = 0; i < 16; ++i) fleet.add(name_of(i, "flood"), FakeAgent::flood());
  const Spawned r =
      spawn_host({"--sockets", fleet.glob(), "--parallel", "16", "--timeout", "20", "--json", "status"}, fleet.dir / "out.json");
  EXPECT_EQ(r.code, host_exit::kSomeDomains) << r.out;
  const json rows = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(rows.is_array()) << r.out;
  ASSERT_EQ(rows.size(), 16u);
  for (const auto& row : rows) {
    EXPECT_EQ(row["answer"], "bad_reply") << row;
    // The flood reached the line cap (it was not cut short by something else).
    EXPECT_NE(row["error"].get<std::string>().find("reply line is over"), std::string::npos) << row;
  }
  std::printf("guest-nettune-host peak RSS with 16 flooding guests: %.1f MB\n", static_cast<double>(r.max_rss_kb) / 1024);
  EXPECT_GT(r.max_rss_kb, 0);
  if (!kPeakRssIsBounded) GTEST_SKIP() << "sanitizer build: peak RSS printed, not bounded";
  EXPECT_LE(r.max_rss_kb, 128 * 1024) << "peak RSS " << r.max_rss_kb << " kB";
}

TEST(FleetSockets, OnlySocketsSortedAndAMissingDirectoryIsEmpty) {
  Fleet fleet;
  fleet.add("b", FakeAgent::mute());
  fleet.add("a", FakeAgent::mute());
  write_text(fleet.dir / "c.sock", "a plain file");
  auto found = sockets_matching(fleet.glob());
  ASSERT_TRUE(found.ok()) << found.error().text();
  EXPECT_EQ(*found, (std::vector<std::string>{fleet.dir / "a.sock", fleet.dir / "b.sock"}));
  auto none = sockets_matching(fleet.dir / "missing/*.qga");
  ASSERT_TRUE(none.ok()) << none.error().text();
  EXPECT_TRUE(none->empty());
}

TEST(HostTable, SettingsHaveTheAgentsHeadings) {
  FakeAgent fake(FakeAgent::normal(FakeAgent::exited(FakeAgent::sample_status(/*drift=*/1).dump())));
  HostOptions o;
  o.socket = fake.socket_path();
  o.command = "status";
  o.timeout = 5;
  SocketChannel ch(o.socket);
  std::ostringstream out, err;
  EXPECT_EQ(run_host_command(o, ch, out, err), host_exit::kOk) << err.str();
  const std::string t = out.str();
  EXPECT_NE(t.find("STATE  TARGET"), std::string::npos) << t;
  const auto heading = t.find("STATE  TARGET");
  const std::string line = t.substr(heading, t.find('\n', heading) - heading);
  for (const char* h : {"CURRENT", "DESIRED", "REASON"}) EXPECT_NE(line.find(h), std::string::npos) << line;
  // Columns line up: the drifted row's CURRENT starts under the heading (masks read as CPU lists).
  const auto row = t.find("drift  /sys/class/net/eth0/queues/tx-0/xps_cpus");
  ASSERT_NE(row, std::string::npos) << t;
  EXPECT_EQ(t.substr(row + line.find("CURRENT"), 5), "none ") << t;
  EXPECT_NE(t.find("NIC             DRIVER      QUEUES"), std::string::npos) << t;
}

TEST(FleetPrometheus, LabelsAreNeutralisedThenEscaped) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  GuestRow ok;
  ok.name = "web\"1\\x\ny";  // a domain name may hold any of these
  ok.cls = GuestClass::Ok;
  ok.reachable = true;
  ok.exec_enabled = true;
  ok.status = FakeAgent::sample_status(2);
  ok.status["nics"][0]["name"] = "e\"th\x1b[31m";
  ok.status["kernel"]["release"] = std::string("6.1\n# HELP fake\x7f\xff");
  GuestRow dead;
  dead.name = "dead";
  dead.cls = GuestClass::NoAgent;
  std::ostringstream out;
  render_fleet_prometheus(out, {ok, dead}, {"sockets", 1.5, 1795773600});
  const std::string text = out.str();
  EXPECT_NE(text.find("guest_nettune_guest_up{domain=\"web\\\"1\\\\x\\ny\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guest_nettune_guest_up{domain=\"dead\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guest_nettune_guest_answer{domain=\"dead\",class=\"no_agent\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guest_nettune_guest_exit_code{domain=\"dead\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nic=\"e\\\"th\\\\x1b[31m\",kind=\"current\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel=\"6.1\\\\x0a# HELP fake\\\\x7f\\\\xff\""), std::string::npos) << text;
  EXPECT_NE(text.find("guest_nettune_guest_vcpus{domain=\"web\\\"1\\\\x\\ny\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guest_nettune_guest_softnet_dropped_total{domain=\"web\\\"1\\\\x\\ny\"} 7\n"), std::string::npos) << text;
  // Every line is a comment or a sample: nothing a guest sent started a line of its own.
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);)
    EXPECT_TRUE(l.rfind("# HELP guest_nettune_", 0) == 0 || l.rfind("# TYPE guest_nettune_", 0) == 0 ||
                l.rfind("guest_nettune_", 0) == 0)
        << l;
}

TEST(FleetPrometheus, CpulistCount) {
  EXPECT_EQ(cpulist_count(""), 0u);
  EXPECT_EQ(cpulist_count("0-3,8"), 5u);
  EXPECT_EQ(cpulist_count("0-4095"), 4096u);
  for (const char* bad : {"0-", "3-1", "a", "0,,1", "0-99999999", "1,"}) EXPECT_FALSE(cpulist_count(bad)) << bad;
}

}  // namespace
}  // namespace gn::test
