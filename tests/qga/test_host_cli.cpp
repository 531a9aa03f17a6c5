// guest-nettune-host's command line: good inputs parse to the options they say, bad ones are
// refused with a message that says what to do, and the real binary exits 2 on them.
#include <gtest/gtest.h>

#include "host_cli.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using gn::qga::HostOptions;
using gn::qga::parse_host_args;
using Args = std::vector<std::string>;

TEST(HostCli, GoodInputs) {
  {
    auto o = parse_host_args({"--socket", "/run/q.sock", "status"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_EQ(o->socket, "/run/q.sock");
    EXPECT_EQ(o->command, "status");
    EXPECT_EQ(o->timeout, 30);
    EXPECT_EQ(o->connect, "qemu:///system");
    EXPECT_FALSE(o->all);
    EXPECT_TRUE(o->agent_args.empty());
  }
  {
    // Host options after the command stay the host's; the rest goes to the guest, in order.
    auto o = parse_host_args({"--domain", "web1", "--timeout", "2.5", "apply", "--profile", "latency", "--json", "-i",
                              "eth0", "--exclude=eth9", "--dry-run"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_EQ(o->domain, "web1");
    EXPECT_DOUBLE_EQ(o->timeout, 2.5);
    EXPECT_TRUE(o->json);
    EXPECT_EQ(o->agent_args, (Args{"--profile", "latency", "-i", "eth0", "--exclude=eth9", "--dry-run"}));
  }
  {
    auto o = parse_host_args({"status", "--socket", "s"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_EQ(o->socket, "s");
  }
  {
    auto o = parse_host_args({"--all", "--connect", "qemu+ssh://h/system", "status", "--prometheus"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_TRUE(o->all);
    EXPECT_TRUE(o->prometheus);
    EXPECT_EQ(o->connect, "qemu+ssh://h/system");
    EXPECT_EQ(o->parallel, 16u);
    EXPECT_EQ(o->deadline, 300);
  }
  {
    // A command's own options may come before it too.
    auto o = parse_host_args({"--all", "--prometheus", "--output", "/tmp/x.prom", "status"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_TRUE(o->prometheus);
    EXPECT_EQ(o->output, "/tmp/x.prom");
    EXPECT_TRUE(o->agent_args.empty());
  }
  {
    auto o = parse_host_args({"--sockets", "/var/run/qemu-server/*.qga", "--parallel", "4", "--deadline", "60", "status"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_TRUE(o->all) << "--sockets implies --all";
    EXPECT_EQ(o->sockets, "/var/run/qemu-server/*.qga");
    EXPECT_EQ(o->parallel, 4u);
    EXPECT_EQ(o->deadline, 60);
  }
  {
    auto o = parse_host_args({"--socket", "s", "--guest-path", "/opt/gn/guest-nettune", "revert"});
    ASSERT_TRUE(o.ok()) << o.error().text();
    EXPECT_EQ(o->guest_path, "/opt/gn/guest-nettune");
  }
}

TEST(HostCli, HelpIsPerCommand) {
  auto main = parse_host_args({"--help"});
  ASSERT_TRUE(main.ok());
  EXPECT_TRUE(main->help);
  for (const auto& c : gn::qga::host_commands())
    EXPECT_NE(main->help_text.find(std::string("  ") + c.name), std::string::npos) << c.name << "\n" << main->help_text;
  EXPECT_NE(main->help_text.find("Exit codes"), std::string::npos);
  EXPECT_NE(main->help_text.find("--sockets"), std::string::npos);

  auto status = parse_host_args({"status", "-h"});
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->help);
  EXPECT_NE(status->help_text.find("] status [guest-nettune options...]"), std::string::npos) << status->help_text;
  EXPECT_NE(status->help_text.find("--prometheus"), std::string::npos);
  EXPECT_NE(status->help_text.find("--parallel"), std::string::npos);

  auto apply = parse_host_args({"--socket", "s", "apply", "--help"});
  ASSERT_TRUE(apply.ok());
  EXPECT_EQ(apply->help_text.find("--prometheus"), std::string::npos) << "status's own option is not apply's";
  EXPECT_EQ(apply->help_text.find("--all ["), std::string::npos) << "apply does not run over every guest";
}

struct Bad {
  Args args;
  std::string says;  // part of the message
};

TEST(HostCli, BadInputsSayWhatToDo) {
  const std::vector<Bad> cases = {
      {{}, "no command (status, plan, apply, revert, or advise)"},
      {{"frob"}, "unknown command 'frob' (status, plan, apply, revert)"},
      {{"--socket", "s"}, "no command"},
      {{"--socket"}, "socket"},
      {{"--frob", "status"}, "unknown option '--frob' before the command"},
      {{"--profile", "latency", "--socket", "s", "status"}, "guest-nettune's own options go after it"},
      {{"--soc", "s", "status"}, "unknown option '--soc'"},  // no guessing of abbreviations
      {{"status"}, "no guest: give --socket PATH, --domain NAME or --all"},
      {{"--socket", "s", "--domain", "d", "status"}, "give only one of"},
      {{"--all", "--socket", "s", "status"}, "give only one of"},
      {{"--all", "apply"}, "--all and --sockets go with status only"},
      {{"--sockets", "/tmp/*.sock", "plan"}, "go with status only"},
      {{"--socket", "s", "--timeout", "-1", "status"}, "--timeout '-1' is not a number of seconds above 0"},
      {{"--socket", "s", "--timeout", "soon", "status"}, "--timeout 'soon'"},
      {{"--socket", "s", "--timeout", "0", "status"}, "--timeout '0'"},
      {{"--socket", "s", "--timeout", "4000", "status"}, "at most 3600"},
      {{"--all", "--deadline", "nan", "status"}, "--deadline 'nan'"},
      {{"--socket", "s", "--guest-path", "rel", "status"}, "not an absolute path"},
      {{"--all", "--parallel", "0", "status"}, "--parallel '0' is not a count of guests from 1 to 1024"},
      {{"--all", "--parallel", "many", "status"}, "--parallel 'many'"},
      {{"--all", "--parallel", "2000", "status"}, "from 1 to 1024"},
      {{"--socket", "s", "--parallel", "4", "status"}, "--parallel and --deadline go with --all"},
      {{"--all", "--json", "--prometheus", "status"}, "--json and --prometheus exclude each other"},
      {{"--socket", "s", "apply", "--prometheus"}, "--prometheus goes with status, not apply"},
      {{"--socket", "s", "--prometheus", "apply"}, "--prometheus goes with status, not apply"},
      {{"--sockets", "/x/*.qga", "--connect", "qemu:///system", "status"}, "give one of them"},
      // Placeholders of the option parser's message templates, shown as given (not spun on).
      {{"--socket", "s", "--timeout", "%value%", "status"}, "--timeout '%value%'"},
      {{"--%canonical_option%", "status"}, "unknown option '--%canonical_option%' before the command"},
      {{"--socket", "s", "--socket", "%canonical_option%", "status"}, "'--socket' cannot be specified more than once"},
      {{"--socket=%value%", "--help=%value%", "status"}, "'--help' does not take any arguments"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    auto r = parse_host_args(c.args);
    ASSERT_FALSE(r.ok()) << "accepted: " << line;
    const std::string text = r.error().text();
    EXPECT_NE(text.find(c.says), std::string::npos) << line << "-> " << text;
    // Every refusal says where to look (the help, or the fix itself).
    EXPECT_TRUE(text.find("--help") != std::string::npos || !r.error().hint.empty()) << line << "-> " << text;
  }
}

TEST(HostCli, TheBinaryExitsTwoWithTheMessage) {
  const std::string bin = GN_HOST_BIN;
  auto bad = run_command(bin + " --all --parallel 0 status 2>&1");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("guest-nettune-host: --parallel '0'"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("see guest-nettune-host status --help"), std::string::npos) << bad.out;
  auto none = run_command(bin + " 2>&1");
  EXPECT_EQ(none.code, 2) << none.out;
  auto help = run_command(bin + " status --help 2>&1");
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_NE(help.out.find("--sockets GLOB"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace gn::test
