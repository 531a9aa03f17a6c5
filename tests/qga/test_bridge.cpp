// The host bridge against a scripted fake agent: timeouts, garbage, stale replies, split and
// huge lines, hang-ups, signals, truncation. Each case checks the exit code and the message.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "base64.h"
#include "fake_agent.h"
#include "guest_exec.h"
#include "host_cli.h"
#include "reply_reader.h"
#include "socket_channel.h"

namespace gn::test {
namespace {

using nlohmann::json;
using namespace gn::qga;

// The smallest status that passes docs/status-schema.json (the host checks it before use).
const std::string kGuestStatus =
    json{{"schema_version", 1},
         {"command", "status"},
         {"profile", "balanced"},
         {"kernel", {{"release", "6.1.0"}, {"driver_behaviour", "driver-stripes-xps"}, {"evidence", "version"}}},
         {"cpus", {{"nr_cpu_ids", 4}, {"online", "0-3"}, {"isolated", ""}, {"usable", "0-3"}, {"numa_nodes", {"0-3"}},
                   {"smt_cores", 4}}},
         {"irqbalance_running", false},
         {"nics", json::array()},
         {"settings", json::array()},
         {"notes", json::array()},
         {"summary", {{"ok", 3}, {"drift", 0}, {"not_applicable", 1}}},
         {"last_apply", nullptr},
         {"journal_entries", 0},
         {"softnet", json::array()},
         {"load", nullptr}}
        .dump();

json exited(const std::string& out, int code = 0) {
  return {{"exited", true}, {"exitcode", code}, {"out-data", base64_encode(out)}};
}

struct HostRun {
  int code;
  std::string out, err;
  double seconds;
};

HostRun run_host(const std::string& socket, double timeout = 5, const std::string& command = "status") {
  HostOptions o;
  o.socket = socket;
  o.timeout = timeout;
  o.command = command;
  SocketChannel ch(socket);
  std::ostringstream out, err;
  const auto t0 = std::chrono::steady_clock::now();
  const int code = run_host_command(o, ch, out, err);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {code, out.str(), err.str(), s};
}

TEST(Bridge, NormalRoundTrip) {
  FakeAgent fake(FakeAgent::normal(exited(kGuestStatus)));
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kOk) << r.err;
  EXPECT_NE(r.out.find("3 ok, 0 drifted"), std::string::npos) << r.out;
  // Sentinel and sync first, guest-info before guest-exec, one status call (it reaps).
  const auto reqs = fake.requests();
  ASSERT_GE(reqs.size(), 5u);
  EXPECT_TRUE(reqs[0].value("sentinel", false));
  EXPECT_EQ(reqs[1]["execute"], "guest-sync-delimited");
  EXPECT_EQ(reqs[2]["execute"], "guest-info");
  EXPECT_EQ(reqs[3]["execute"], "guest-exec");
  EXPECT_EQ(reqs[3]["arguments"]["arg"], json({"status", "--json"}));
  EXPECT_EQ(reqs[3]["arguments"]["env"][0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_TRUE(reqs[3]["arguments"]["capture-output"].get<bool>());
  EXPECT_EQ(reqs.size(), 5u) << "no status call after the one that saw the exit";
}

TEST(Bridge, NoAnswerEndsAtTheDeadline) {
  FakeAgent fake([](FakeAgent::Conn&, const json&) {});
  const HostRun r = run_host(fake.socket_path(), /*timeout=*/1);
  EXPECT_EQ(r.code, host_exit::kNoAgent);
  EXPECT_NE(r.err.find("no answer before the deadline"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 3.0);
}

TEST(Bridge, NothingListening) {
  const HostRun r = run_host("/nonexistent/gn-test.sock", 1);
  EXPECT_EQ(r.code, host_exit::kNoAgent);
  EXPECT_NE(r.err.find("org.qemu.guest_agent.0"), std::string::npos) << r.err;
}

TEST(Bridge, GarbageParseErrorAndStaleRepliesBeforeTheSentinel) {
  auto normal = FakeAgent::normal(exited(kGuestStatus));
  FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-sync-delimited") {
      c.send("\x01\x02garbage{{{\n");
      c.send(R"({"error": {"class": "GenericError", "desc": "JSON parse error, stray '\ufffd'"}})" "\n");
      c.send("\xff{\"return\": 12345}\n");  // a sync reply meant for an earlier client
      c.send(R"({"return": {"pid": 99}, "id": "old"})" "\n");
    }
    normal(c, req);
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kOk) << r.err;
}

TEST(Bridge, StaleReplyToACallIsSkippedByItsId) {
  auto normal = FakeAgent::normal(exited(kGuestStatus));
  FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-exec") c.send(R"({"return": {"pid": 1}, "id": "gn-0-0"})" "\n");
    normal(c, req);
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kOk) << r.err;
  const auto reqs = fake.requests();
  EXPECT_EQ(reqs.back()["arguments"]["pid"], 4242) << "polled the pid of the real reply";
}

TEST(Bridge, ReplySplitAcrossManyReads) {
  FakeAgent fake([](FakeAgent::Conn& c, const json& req) {
    const std::string cmd = req.value("execute", "");
    json ret;
    if (cmd == "guest-sync-delimited") {
      c.send_slowly("\xff" + json{{"return", req["arguments"]["id"]}}.dump() + "\n");
      return;
    }
    if (cmd == "guest-info")
      ret = {{"supported_commands", {{{"name", "guest-exec"}, {"enabled", true}}, {{"name", "guest-exec-status"}, {"enabled", true}}}}};
    if (cmd == "guest-exec") ret = {{"pid", 7}};
    if (cmd == "guest-exec-status") ret = exited(kGuestStatus);
    c.send_slowly(json{{"return", ret}, {"id", req["id"]}}.dump() + "\n");
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kOk) << r.err;
}

TEST(Bridge, AThirtyMegabyteLineIsReadAndItsOutputCalledTruncated) {
  // 22.5 MB of output, 30 MB of base64 on one line: past qemu-ga's 16 MiB cap.
  const std::string big(22'500'000, 'x');
  FakeAgent fake(FakeAgent::normal(exited(big)));
  const HostRun r = run_host(fake.socket_path(), 20);
  EXPECT_EQ(r.code, host_exit::kBadReply) << r.err;
  EXPECT_NE(r.err.find("cut short"), std::string::npos) << r.err;
}

TEST(Bridge, TruncatedFlagIsBelieved) {
  json st = exited(kGuestStatus.substr(0, 40));
  st["out-truncated"] = true;
  FakeAgent fake(FakeAgent::normal(st));
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kBadReply);
  EXPECT_NE(r.err.find("cut short"), std::string::npos) << r.err;
}

TEST(Bridge, ConnectionClosedMidReply) {
  auto normal = FakeAgent::normal(exited(kGuestStatus));
  FakeAgent fake([normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-info") {
      c.send(R"({"return": {"supported_comm)");
      c.hang_up();
      return;
    }
    normal(c, req);
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kNoAgent);
  EXPECT_NE(r.err.find("closed the connection"), std::string::npos) << r.err;
}

TEST(Bridge, ExecKilledBySignal) {
  FakeAgent fake(FakeAgent::normal({{"exited", true}, {"signal", 9}}));
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kAgentFailed);
  EXPECT_NE(r.err.find("signal 9"), std::string::npos) << r.err;
}

TEST(Bridge, AgentFailureShowsItsExitCodeAndStderr) {
  json st = {{"exited", true}, {"exitcode", 2}, {"err-data", base64_encode("guest-nettune: error: unknown profile\n")}};
  FakeAgent fake(FakeAgent::normal(st));
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kAgentFailed);
  EXPECT_NE(r.err.find("exited 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown profile"), std::string::npos) << r.err;
}

TEST(Bridge, OtherSchemaVersionIsNamed) {
  json doc = json::parse(kGuestStatus);
  doc["schema_version"] = 2;
  FakeAgent fake(FakeAgent::normal(exited(doc.dump())));
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kBadReply);
  EXPECT_NE(r.err.find("upgrade guest-nettune-host"), std::string::npos) << r.err;
}

TEST(Bridge, PollsUntilExitedWithBackoff) {
  int calls = 0;
  auto normal = FakeAgent::normal(exited(kGuestStatus));
  FakeAgent fake([&calls, normal](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-exec-status" && ++calls < 4) {
      c.reply(req, {{"exited", false}});
      return;
    }
    normal(c, req);
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kOk) << r.err;
  EXPECT_EQ(calls, 4);
}

TEST(Bridge, GuestInfoWithoutExec) {
  FakeAgent fake([](FakeAgent::Conn& c, const json& req) {
    if (req.value("execute", "") == "guest-sync-delimited")
      c.send("\xff" + json{{"return", req["arguments"]["id"]}}.dump() + "\n");
    else
      c.reply(req, {{"supported_commands", {{{"name", "guest-ping"}, {"enabled", true}}}}});
  });
  const HostRun r = run_host(fake.socket_path());
  EXPECT_EQ(r.code, host_exit::kExecDisabled);
  EXPECT_NE(r.err.find("BLACKLIST_RPC"), std::string::npos) << r.err;
}

TEST(ReplyReader, LinesSentinelsAndLimits) {
  ReplyReader r;
  r.feed("noise\xff{\"a\":1}\n{\"b\"");
  EXPECT_TRUE(r.skip_past_sentinel());
  EXPECT_EQ(r.pop_line(), std::optional<std::string>("{\"a\":1}"));
  EXPECT_FALSE(r.pop_line().has_value());
  r.feed(":2}\r\n");
  EXPECT_EQ(r.pop_line(), std::optional<std::string>("{\"b\":2}"));
  r.feed("no sentinel here");
  EXPECT_FALSE(r.skip_past_sentinel());
  EXPECT_EQ(r.buffered(), 0u);
  r.feed(std::string(ReplyReader::kMaxLine + 1, 'x'));
  EXPECT_TRUE(r.overflowed());
}

TEST(Base64, RoundTripAndRejects) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x80", 3)})
    EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*base64_decode("aGkK"), "hi\n");
  for (const char* bad : {"a", "ab=c", "a!==", "abc=d==="}) EXPECT_FALSE(base64_decode(bad).ok()) << bad;
}

TEST(HostArgs, UsageErrors) {
  EXPECT_FALSE(parse_host_args({"status"}).ok());
  EXPECT_FALSE(parse_host_args({"--socket", "s"}).ok());
  EXPECT_FALSE(parse_host_args({"--socket", "s", "frob"}).ok());
  EXPECT_FALSE(parse_host_args({"--socket", "s", "--timeout", "-1", "status"}).ok());
  EXPECT_FALSE(parse_host_args({"--socket", "s", "--guest-path", "rel", "status"}).ok());
  auto ok = parse_host_args({"--socket", "s", "apply", "--profile", "latency", "--json"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->agent_args, (std::vector<std::string>{"--profile", "latency"}));
  EXPECT_TRUE(ok->json);
}

}  // namespace
}  // namespace gn::test
