// The host bridge against a real qemu-guest-agent on this machine (`qemu-ga -m unix-listen`),
// whose guest-exec runs the freshly built agent on a fixture snapshot.
#include <gtest/gtest.h>
#include <spawn.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "fixture.h"
#include "host_cli.h"
#include "socket_channel.h"
#include "tempdir.h"

extern char** environ;

namespace gn::test {
namespace {

using nlohmann::json;
using namespace gn::qga;

// Dangerous commands stay blocked in every test agent.
const std::string kBlocked =
    "guest-shutdown,guest-suspend-disk,guest-suspend-ram,guest-suspend-hybrid,guest-set-time,"
    "guest-set-user-password,guest-fsfreeze-freeze,guest-fsfreeze-freeze-list,guest-set-vcpus,"
    "guest-set-memory-blocks";

class RealAgent {
 public:
  explicit RealAgent(const std::string& extra_blocked = "") {
    std::filesystem::create_directories(dir_ / "state");
    socket_ = dir_ / "qga.sock";
    const std::string blocked = kBlocked + (extra_blocked.empty() ? "" : "," + extra_blocked);
    const std::string state = dir_ / "state";
    std::vector<std::string> argv_s = {"qemu-ga", "-m", "unix-listen", "-p", socket_, "-t", state, "-b", blocked};
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    // Watch for the socket before starting, so its creation cannot be missed.
    const int in = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(in, dir_.path().c_str(), IN_CREATE);
    if (::posix_spawnp(&pid_, "qemu-ga", nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start qemu-ga: install qemu-guest-agent");
    wait_listening(in);
    ::close(in);
  }
  ~RealAgent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& socket() const { return socket_; }

 private:
  // Waits (bounded) until the socket exists and accepts a connection.
  void wait_listening(int in) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!std::filesystem::exists(socket_)) {
      pollfd p{in, POLLIN, 0};
      if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 1000) < 0)
        throw std::runtime_error("qemu-ga did not create " + socket_);
      char buf[4096];
      if (p.revents & POLLIN) (void)::read(in, buf, sizeof buf);
    }
    // Bound before listening for a moment at most: retry while it refuses.
    while (true) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::memcpy(a.sun_path, socket_.c_str(), socket_.size());
      const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (ok) return;
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("qemu-ga does not accept");
      std::this_thread::yield();
    }
  }
  TempDir dir_;
  std::string socket_;
  pid_t pid_ = -1;
};

struct Ran {
  int code;
  std::string out, err;
};

Ran host(const RealAgent& agent, const std::string& command, std::vector<std::string> agent_args, bool as_json,
         const std::string& guest_path = GN_AGENT_BIN) {
  HostOptions o;
  o.socket = agent.socket();
  o.timeout = 30;
  o.guest_path = guest_path;
  o.command = command;
  o.agent_args = std::move(agent_args);
  o.json = as_json;
  SocketChannel ch(o.socket);
  std::ostringstream out, err;
  const int code = run_host_command(o, ch, out, err);
  return {code, out.str(), err.str()};
}

TEST(RealQga, StatusAndPlanRoundTrips) {
  RealAgent agent;
  TempDir snap;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(snap.path());
  const Ran table = host(agent, "status", {"--root", snap.path()}, false);
  ASSERT_EQ(table.code, host_exit::kOk) << table.err;
  EXPECT_NE(table.out.find("4.18.0-80.el8"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("drift"), std::string::npos) << table.out;
  const Ran j = host(agent, "status", {"--root", snap.path()}, true);
  ASSERT_EQ(j.code, host_exit::kOk) << j.err;
  const json doc = json::parse(j.out);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["command"], "status");
  EXPECT_EQ(doc["summary"]["drift"], 25);
  const Ran plan = host(agent, "plan", {"--root", snap.path(), "--profile", "balanced"}, true);
  ASSERT_EQ(plan.code, host_exit::kOk) << plan.err;
  EXPECT_EQ(json::parse(plan.out)["profile"], "balanced");
}

TEST(RealQga, ApplyAndRevertThroughTheAgent) {
  RealAgent agent;
  TempDir snap;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(snap.path());
  const Ran a = host(agent, "apply", {"--root", snap.path()}, true);
  ASSERT_EQ(a.code, host_exit::kOk) << a.err;
  EXPECT_EQ(json::parse(a.out)["summary"]["writes"], 25);
  EXPECT_EQ(read_text(snap / "sys/class/net/eth0/queues/tx-3/xps_cpus"), "180\n");
  const Ran again = host(agent, "apply", {"--root", snap.path()}, true);
  EXPECT_EQ(json::parse(again.out)["summary"]["writes"], 0);
  const Ran r = host(agent, "revert", {"--root", snap.path()}, false);
  ASSERT_EQ(r.code, host_exit::kOk) << r.err;
  EXPECT_NE(r.out.find("25 restored"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(snap / "sys/class/net/eth0/queues/tx-3/xps_cpus"), "000\n");
}

TEST(RealQga, AgentErrorsComeBackWithTheirCode) {
  RealAgent agent;
  TempDir snap;
  named_fixtures().at("rhel8.0-9vcpu-4-queues").write(snap.path());
  const Ran r = host(agent, "plan", {"--root", snap.path(), "--profile", "fast"}, false);
  EXPECT_EQ(r.code, host_exit::kAgentFailed);
  EXPECT_NE(r.err.find("unknown profile 'fast'"), std::string::npos) << r.err;
  const Ran missing = host(agent, "status", {}, false, "/nonexistent/guest-nettune");
  EXPECT_EQ(missing.code, host_exit::kAgentMissing);
  EXPECT_NE(missing.err.find("--guest-path"), std::string::npos) << missing.err;
}

TEST(RealQga, BlockedExecSaysHowToEnableIt) {
  RealAgent agent("guest-exec,guest-exec-status");
  const auto r = run_command(std::string(GN_HOST_BIN) + " --socket " + agent.socket() + " status 2>&1");
  const std::string& out = r.out;
  EXPECT_EQ(r.code, host_exit::kExecDisabled) << out;
  EXPECT_NE(out.find("BLACKLIST_RPC"), std::string::npos) << out;
  EXPECT_NE(out.find("Debian and Ubuntu allow them"), std::string::npos) << out;
}

}  // namespace
}  // namespace gn::test
