// guest-nettune-host: the host side. Runs guest-nettune inside a guest through its
// qemu-guest-agent and prints what it says.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
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

// One subcommand of guest-nettune-host. A new subcommand is one entry in host_commands()
// (host_cli.cpp): its name, what it does, where it may run, its own options and, for a command
// that runs on the host rather than in a guest, the function that runs it.
struct HostOptions;
struct HostCommand {
  const char* name;
  const char* summary;
  bool in_guest;     // runs guest-nettune in the guest: needs --socket, --domain or --all
  bool allows_all;   // may run over every guest (--all, --sockets)
  bool forwards;     // options after the command go to guest-nettune in the guest
  const char* forwarded_help;  // what those options are (for --help)
  // Options of its own (may be null); read them from HostOptions::vm.
  void (*add_options)(boost::program_options::options_description&);
  // For a host-side command: runs it and returns the exit code (null for guest commands).
  int (*run)(const HostOptions&, std::ostream& out, std::ostream& err);
};
const std::vector<HostCommand>& host_commands();

struct HostOptions {
  std::string socket;                   // the agent's chardev socket, or
  std::string domain;                   // a libvirt domain (name or UUID), or
  bool all = false;                     // every running domain, or every socket matching:
  std::string sockets;                  // --sockets GLOB (implies --all)
  std::string connect = "qemu:///system";
  double timeout = 30;                  // per guest
  unsigned parallel = 16;               // --all: guests in flight at once
  double deadline = 300;                // --all: the whole run
  std::string guest_path = "/usr/sbin/guest-nettune";
  bool json = false;
  bool prometheus = false;              // status: Prometheus text exposition
  std::string output;                   // status --output FILE: written atomically instead of stdout
  std::string command;                  // an entry of host_commands()
  const HostCommand* entry = nullptr;
  std::vector<std::string> agent_args;  // passed through to guest-nettune
  bool help = false;
  std::string help_text;                // what --help prints (the command's, or the main help)
  boost::program_options::variables_map vm;  // every parsed option, for a command's own options
};

// Parses argv (without the program name); the error text is the usage problem and says what to
// do. Host options may come before or after the command; unknown options after a guest command
// go to guest-nettune in the guest.
Result<HostOptions> parse_host_args(const std::vector<std::string>& args);
std::string host_help();

// Runs the command in the guest over `channel` and prints the result; returns the exit code.
int run_host_command(const HostOptions& o, AgentChannel& channel, std::ostream& out, std::ostream& err);

// status --all (and status --prometheus for one guest): asks every guest at once, prints the
// table, the JSON rows or the exposition; 0 when every guest reported, else kSomeDomains (for one
// guest: that guest's own exit code).
struct GuestSource;
int run_host_fleet(const HostOptions& o, const std::vector<GuestSource>& guests, const std::string& source,
                   std::ostream& out, std::ostream& err);

}  // namespace gn::qga
