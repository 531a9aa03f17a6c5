// A hostile guest against the real guest-nettune-host binary: escapes in every string field,
// schema violations, 16 MiB of output, a reply that never ends, one that stalls, deep nesting.
// Each run must end with neutral output, exit 14 naming the field, or the timeout exit; never a
// hang, and never a byte on the host's stdout or stderr that a terminal would act on (every
// captured byte is scanned). The flooding cases print the host's peak RSS (wait4's rusage).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "../unit/plan_helpers.h"
#include "base64.h"
#include "clean_spawn.h"
#include "fake_agent.h"
#include "fixture.h"
#include "guest_exec.h"
#include "guest_json.h"
#include "host_cli.h"
#include "reply_reader.h"
#include "schema.h"
#include "status.h"
#include "tempdir.h"
#include "terminal_hazard.h"

namespace gn::test {
namespace {

using nlohmann::json;
using namespace gn::qga;

struct HostRun {
  int code = -1;
  bool hung = false;
  std::string out, err;
  long peak_rss_kib = 0, floor_rss_kib = 0;
  double seconds = 0;
};

// Runs guest-nettune-host against `socket`; kills it (and says so) if it outlives `limit_s`.
HostRun run_binary(const std::string& socket, std::vector<std::string> args, double limit_s = 30) {
  TempDir d;
  std::vector<std::string> argv = {GN_HOST_BIN, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  const Spawned s = spawn_measured(argv, d / "stdout", d / "stderr", static_cast<int>(limit_s * 1000));
  return {s.code, s.hung, read_text(d / "stdout"), read_text(d / "stderr"), s.peak_rss_kib, s.floor_rss_kib, s.seconds};
}

// The checks every hostile run must pass, whatever else it expects.
void expect_harmless(const HostRun& r, const std::string& what) {
  EXPECT_FALSE(r.hung) << what << ": the host tool hung and was killed";
  EXPECT_EQ(first_hazard(r.out, /*newlines_allowed=*/true), "") << what << " (stdout)";
  EXPECT_EQ(first_hazard(r.err, /*newlines_allowed=*/true), "") << what << " (stderr)";
}

json exited(const std::string& out, int code = 0, const std::string& err = "") {
  json r = {{"exited", true}, {"exitcode", code}, {"out-data", base64_encode(out)}};
  if (!err.empty()) r["err-data"] = base64_encode(err);
  return r;
}

// A real status, as the agent makes it from a fixture, with a note, a last apply and a load
// sample so that every kind of string field is there.
json real_status() {
  TempDir dir;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(dir.path());
  const Policy policy;
  const Facts facts = probe_snapshot(dir.path());
  const Plan plan = make_plan(facts, policy);
  json doc = status_json(Status{facts, policy, plan, std::nullopt, {}, std::nullopt});
  doc["notes"].push_back("a note");
  doc["last_apply"] = {{"command", "apply"}, {"result", "ok"}, {"time", "2026-11-27T10:00:00Z"}};
  doc["load"] = {{"seconds", 1}, {"nics", json::array()}, {"cpus", json::array()}, {"peak_pps", 10},
                 {"tier", "idle"}, {"recommendation", "nothing to do"}, {"recommended_profile", ""},
                 {"profile_fits", true}};
  return doc;
}

// Terminal attacks: retitle (OSC), clear (CSI), colour, the 8-bit CSI as U+009B, a bell, a
// backspace, a right-to-left override; the short one fits a 15-character NIC name.
const std::string kLong = "\x1b]0;owned\x07\x1b[2J\x1b[31m\xc2\x9b" "1m\b\xe2\x80\xae\\x";
const std::string kShort = "\x1b[2J\xc2\x9b" "1m\x07";

// Puts an attack into every string field that can hold one and still pass the schema (enums,
// constants and CPU lists cannot: those are refused by the schema test below). Returns the
// names of the fields it reached.
std::set<std::string> poison_every_string(json& doc) {
  std::set<std::string> reached;
  const json flat = doc.flatten();
  for (const auto& [ptr, value] : flat.items()) {
    if (!value.is_string()) continue;
    const json::json_pointer p(ptr);
    for (const std::string& attack : {kLong, kShort}) {
      doc[p] = attack;
      if (!validate_status(doc)) {
        reached.insert(p.back());
        break;
      }
      doc[p] = value;
    }
  }
  // And a member this version does not know, hostile in its name and value.
  doc["\x1b]0;key\x07"] = kLong;
  return reached;
}

TEST(HostileGuest, EscapesInEveryStringFieldComeOutNeutral) {
  json doc = real_status();
  ASSERT_FALSE(validate_status(doc).has_value());
  const auto reached = poison_every_string(doc);
  for (const char* field : {"release", "evidence", "name", "driver", "detail", "nic", "target", "current", "desired",
                            "reason", "drift_cause", "0", "time", "recommendation"})
    EXPECT_TRUE(reached.count(field)) << "no attack reached a field called " << field;
  FakeAgent fake(FakeAgent::normal(exited(doc.dump())));

  const HostRun table = run_binary(fake.socket_path(), {"status"});
  expect_harmless(table, "status table");
  EXPECT_EQ(table.code, host_exit::kOk) << table.err;
  // Shown, visibly: the escapes are there as text.
  EXPECT_NE(table.out.find("\\x1b]0;owned\\x07\\x1b[2J\\x1b[31m\\u009b1m\\x08\\u202e\\\\x"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("\\x1b[2J\\u009b1m\\x07"), std::string::npos) << table.out;

  const HostRun j = run_binary(fake.socket_path(), {"--json", "status"});
  expect_harmless(j, "status --json");
  EXPECT_EQ(j.code, host_exit::kOk) << j.err;
  // Re-serialised, not passed through: \u escapes, and reading it back gives the guest's value.
  EXPECT_NE(j.out.find("\\u001b]0;owned\\u0007"), std::string::npos);
  EXPECT_EQ(json::parse(j.out), doc);
}

TEST(HostileGuest, StderrAndErrorDescriptionsAreNeutralisedWhereQuoted) {
  const std::string raw = "guest-nettune: \x1b]0;owned\x07 \x9b" "2J \xff\xfe \x1b[2J\n\n";
  {
    FakeAgent fake(FakeAgent::normal(exited("", 2, raw)));
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    expect_harmless(r, "stderr quoted after a failure");
    EXPECT_EQ(r.code, host_exit::kAgentFailed);
    EXPECT_NE(r.err.find("\\x1b]0;owned\\x07 \\x9b2J \\xff\\xfe \\x1b[2J"), std::string::npos) << r.err;
  }
  {
    // Not JSON, with terminal bytes in it: refused, and not quoted.
    FakeAgent fake(FakeAgent::normal(exited(raw, 0)));
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    expect_harmless(r, "raw bytes on the guest's stdout");
    EXPECT_EQ(r.code, host_exit::kBadReply);
  }
  {
    // 16 MiB of stderr: quoted, cut to a few KiB.
    FakeAgent fake(FakeAgent::normal(exited("", 1, std::string(kOutputCap - 1, '\x1b'))));
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    expect_harmless(r, "16 MiB of escapes on stderr");
    EXPECT_EQ(r.code, host_exit::kAgentFailed);
    EXPECT_LT(r.err.size(), 32u * 1024) << "the quote is cut short";
    EXPECT_NE(r.err.find("more bytes]"), std::string::npos);
  }
  {
    // The agent's own error text (guest-exec failing) is the guest's too.
    auto normal = FakeAgent::normal(exited("{}"));
    FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
      if (req.value("execute", "") == "guest-exec") {
        c.send(json{{"error", {{"class", "GenericError"}, {"desc", "\x1b]0;owned\x07\xc2\x9b" "2J"}}}, {"id", req["id"]}}
                   .dump() + "\n");
        return;
      }
      normal(c, req);
    });
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    expect_harmless(r, "guest-exec error description");
    EXPECT_EQ(r.code, host_exit::kAgentMissing);
    EXPECT_NE(r.err.find("\\x1b]0;owned\\x07\\u009b2J"), std::string::npos) << r.err;
  }
}

struct Breakage {
  const char* pointer;
  json value;
  const char* rule;
};

TEST(HostileGuest, SchemaViolationsAreExit14NamingTheField) {
  const json good = real_status();
  const json row = {{"cpu", 0}, {"processed", 1}, {"dropped", 0}, {"time_squeeze", 0}};
  const std::vector<Breakage> cases = {
      {"/nics/0/name", std::string(64, 'n'), "maxLength"},
      {"/nics/0/name", "\x1b]0;owned\x07" + std::string(60, 'n'), "maxLength"},
      {"/nics/0/role", "evil", "enum"},
      {"/nics/0/queues_current", -7, "minimum"},
      {"/nics/0/queues_max", "8", "type"},
      {"/settings/0", "a string", "type"},
      {"/cpus/online", "0-3\x1b[2J", "pattern"},
      {"/profile", "\x1b]0;owned\x07", "enum"},
      {"/softnet", json(std::vector<json>(100000, row)), "maxItems"},
      {"/notes", json(std::vector<std::string>(100000, "")), "maxItems"},
      // A million empty objects: a parse that is quadratic in an array's objects never ends.
      {"/nics", json(std::vector<json>(1000000, json::object())), "maxItems"},
  };
  for (const auto& c : cases) {
    json doc = good;
    doc[json::json_pointer(c.pointer)] = c.value;
    FakeAgent fake(FakeAgent::normal(exited(doc.dump())));
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    const std::string what = std::string(c.pointer) + " broken (" + c.rule + ")";
    expect_harmless(r, what);
    EXPECT_EQ(r.code, host_exit::kBadReply) << what << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("docs/status-schema.json at ") + c.pointer + ": "), std::string::npos)
        << what << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("(") + c.rule + ")"), std::string::npos) << what << ": " << r.err;
    EXPECT_EQ(r.out, "") << what << ": nothing of a refused answer is printed";
  }
  // plan, apply and revert answers are checked the same way.
  json apply = {{"schema_version", 1}, {"command", "apply"}, {"writes", {{{"target", "/x"}, {"from", "1"}, {"to", 5}}}},
                {"errors", json::array()}};
  FakeAgent fake(FakeAgent::normal(exited(apply.dump())));
  const HostRun r = run_binary(fake.socket_path(), {"apply"});
  expect_harmless(r, "apply");
  EXPECT_EQ(r.code, host_exit::kBadReply);
  EXPECT_NE(r.err.find("at /writes/0/to: is integer, must be string (type)"), std::string::npos) << r.err;
}

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(HostileGuest, DeepNestingIsRefusedWithoutRecursion) {
  {
    // In guest-nettune's output: the status with a 100000-deep member.
    std::string out = real_status().dump();
    out.pop_back();
    out += ", \"deep\": " + nested(100000) + "}";
    FakeAgent fake(FakeAgent::normal(exited(out)));
    const HostRun r = run_binary(fake.socket_path(), {"--json", "status"});
    expect_harmless(r, "100000 nested arrays in the output");
    EXPECT_EQ(r.code, host_exit::kBadReply) << r.err;
    EXPECT_NE(r.err.find("nests deeper than 64 levels"), std::string::npos) << r.err;
  }
  {
    // In the agent's own reply line: guest-info returns 100000 nested objects.
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
    deep += "1" + std::string(100000, '}');
    FakeAgent fake([deep](FakeAgent::Conn& c, const json& req) {
      if (req.value("execute", "") == "guest-sync-delimited")
        c.send("\xff" + json{{"return", req["arguments"]["id"]}}.dump() + "\n");
      else
        c.send("{\"return\": " + deep + ", \"id\": " + req["id"].dump() + "}\n");
    });
    const HostRun r = run_binary(fake.socket_path(), {"status"});
    expect_harmless(r, "100000 nested objects in a reply");
    EXPECT_EQ(r.code, host_exit::kBadReply) << r.err;
    EXPECT_NE(r.err.find("nests deeper than 64 levels"), std::string::npos) << r.err;
  }
}

TEST(HostileGuest, AReplyThatStallsEndsAtTheTimeout) {
  auto normal = FakeAgent::normal(exited("{}"));
  FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-exec-status") {
      c.send("{\"return\": {\"exited\": true, \"out-data\": \"e30");  // and then nothing, connection open
      return;
    }
    normal(c, req);
  });
  const HostRun r = run_binary(fake.socket_path(), {"--timeout", "2", "status"}, 20);
  expect_harmless(r, "stalled reply");
  EXPECT_EQ(r.code, host_exit::kNoAgent) << r.err;
  EXPECT_NE(r.err.find("no answer before the deadline"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 10);
}

TEST(HostileGuest, AProgramThatNeverExitsEndsAtTheTimeout) {
  FakeAgent fake(FakeAgent::normal({{"exited", false}}));
  const HostRun r = run_binary(fake.socket_path(), {"--timeout", "2", "status"}, 20);
  expect_harmless(r, "never exits");
  EXPECT_EQ(r.code, host_exit::kNoAgent) << r.err;
  EXPECT_NE(r.err.find("at the deadline"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 10);
}

// Memory: what the host holds for one guest. Figures are the host process's peak RSS from
// wait4(), next to a run against a small, normal status (the program itself). The payloads are
// made in the fake agent only when asked for, after the host started.
constexpr long kKiBPerMiB = 1024;  // ru_maxrss is in KiB
constexpr long kLineMiB = static_cast<long>((ReplyReader::kMaxLine + (1 << 20) - 1) >> 20);  // 43

long baseline_rss_kib() {
  FakeAgent fake(FakeAgent::normal(exited(json::parse(R"({"schema_version": 2})").dump())));
  const HostRun r = run_binary(fake.socket_path(), {"status"});
  return r.peak_rss_kib;
}

double mib(long kib) { return static_cast<double>(kib) / 1024; }

void print_figure(const char* what, const HostRun& r, long baseline) {
  std::printf("%s: host peak RSS %.1f MiB, %.1f MiB over a run with a small status (%.1f MiB); "
              "launcher floor %.1f MiB; line cap %zu bytes\n",
              what, mib(r.peak_rss_kib), mib(r.peak_rss_kib - baseline), mib(baseline), mib(r.floor_rss_kib),
              ReplyReader::kMaxLine);
}

TEST(HostileGuest, AReplyLineThatNeverEndsIsCutAtTheLineCap) {
  const long baseline = baseline_rss_kib();
  size_t sent = 0;
  auto normal = FakeAgent::normal(exited("{}"));
  FakeAgent fake([normal, &sent](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") != "guest-exec-status") return normal(c, req);
    const std::string chunk(1 << 20, 'A');
    c.send("{\"return\": {\"exited\": true, \"out-data\": \"");
    // Until the host hangs up (or far past any cap).
    while (sent < (size_t{1} << 30) && c.send(chunk)) sent += chunk.size();
  });
  const HostRun r = run_binary(fake.socket_path(), {"--timeout", "60", "status"}, 90);
  expect_harmless(r, "endless line");
  EXPECT_EQ(r.code, host_exit::kBadReply) << r.err;
  EXPECT_NE(r.err.find("a reply line is over 42 MiB"), std::string::npos) << r.err;
  print_figure("endless reply line", r, baseline);
  std::printf("endless reply line: the guest sent %zu MiB before the host hung up\n", sent >> 20);
  // The reader holds at most the line cap plus one read: allow the cap and 4 MiB of slack over
  // the program's own figure. The former 64 MiB cap fails this.
  EXPECT_LT(sent, size_t{1} << 30) << "the host read on past its cap";
  if (!kPeakRssIsBounded) GTEST_SKIP() << "sanitizer build: peak RSS printed, not bounded";
  ASSERT_LT(r.floor_rss_kib, baseline) << "the launcher is too large to measure with";
  EXPECT_LT(r.peak_rss_kib - baseline, (kLineMiB + 4) * kKiBPerMiB);
}

TEST(HostileGuest, SixteenMiBOnBothStreamsIsCalledCutShortWithinABoundedPeak) {
  const long baseline = baseline_rss_kib();
  auto normal = FakeAgent::normal(exited("{}"));
  FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") != "guest-exec-status") return normal(c, req);
    // The longest reply a real qemu-ga can send: both streams at its 16 MiB cap.
    c.reply(req, exited(std::string(kOutputCap, '{'), 0, std::string(kOutputCap, '\x1b')));
  });
  const HostRun r = run_binary(fake.socket_path(), {"--timeout", "60", "status"}, 90);
  expect_harmless(r, "16 MiB on stdout and stderr");
  EXPECT_EQ(r.code, host_exit::kBadReply) << r.err;
  EXPECT_NE(r.err.find("cut short at 16 MiB"), std::string::npos) << r.err;
  print_figure("largest complete reply (2 x 16 MiB)", r, baseline);
  // At the end of its parse the host holds the line (kMaxLine), the JSON lexer's two copies of
  // the longest string (its token and its raw text, one stream's base64 each: kMaxLine / 2
  // each) and both parsed strings (kMaxLine): 3 x kMaxLine = 128 MiB; then the line, the lexer
  // and the base64 go as the streams are decoded. 8 MiB of slack.
  if (!kPeakRssIsBounded) GTEST_SKIP() << "sanitizer build: peak RSS printed, not bounded";
  ASSERT_LT(r.floor_rss_kib, baseline) << "the launcher is too large to measure with";
  EXPECT_LT(r.peak_rss_kib - baseline, (kLineMiB * 3 + 8) * kKiBPerMiB);
}

}  // namespace
}  // namespace gn::test
