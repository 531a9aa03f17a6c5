// guest-nettune-host: the host side. Runs guest-nettune inside a guest through its
// qemu-guest-agent and prints what it says.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "agent_channel.h"

namespace gn::qga {

namespace host_exit {
inline constexpr int kOk = 0;
inline constexpr int kUsage = 2;
inline constexpr int kNoAgent = 10;        // nothing answers on the agent channel
inline constexpr int kExecDisabled = 11;   // the guest agent blocks guest-exec
inline constexpr int kAgentMissing = 12;   // guest-nettune could not be started in the guest
inline constexpr int kAgentFailed = 13;    // guest-nettune ran and exited non-zero
inline constexpr int kBadReply = 14;       // unusable output (not JSON, other schema, truncated)
inline constexpr int kSomeDomains = 15;    // --all: some domains did not report (see the table)
}  // namespace host_exit

struct HostOptions {
  std::string socket;                   // the agent's chardev socket, or
  std::string domain;                   // a libvirt domain (name or UUID), or
  bool all = false;                     // every running domain (status only)
  std::string connect = "qemu:///system";
  double timeout = 30;
  std::string guest_path = "/usr/sbin/guest-nettune";
  bool json = false;
  std::string command;                  // status | plan | apply | revert
  std::vector<std::string> agent_args;  // passed through to guest-nettune
  bool help = false;
};

// Parses argv (without the program name); the error text is the usage problem.
Result<HostOptions> parse_host_args(const std::vector<std::string>& args);
std::string host_help();

// Runs the command in the guest over `channel` and prints the result; returns the exit code.
int run_host_command(const HostOptions& o, AgentChannel& channel, std::ostream& out, std::ostream& err);

// status --all: one row per domain (agent state, kernel, queues, drift, last apply).
struct DomainChannel {
  std::string name;
  std::unique_ptr<AgentChannel> channel;  // nullptr when it could not be opened
  std::string open_error;
};
int run_host_all(const HostOptions& o, std::vector<DomainChannel>& domains, std::ostream& out, std::ostream& err);

}  // namespace gn::qga
