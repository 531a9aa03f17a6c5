// `guest-nettune-host advise`: read the domains' definitions from libvirt (and, when a guest's
// agent answers, the guest's own view), read the host, run the guide's checks, report. Read
// only: nothing is changed anywhere.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "agent_channel.h"
#include "host_nic.h"
#include "result.h"
#include "rules.h"
#include "sysroot.h"

namespace gn::advise {

struct AdviseOptions {
  std::vector<std::string> domains;  // --domain (repeatable)
  bool all = false;                  // every defined domain
  bool host = false;                 // the host's own settings
  std::string connect = "qemu:///system";
  std::string root = "/";            // the host's files (a snapshot tree in tests)
  bool json = false;
  bool guest = true;                 // ask running guests' agents
  double timeout = 10;               // per guest, seconds
  std::string guest_path = "/usr/sbin/guest-nettune";
};

// Where domains come from: libvirt in production, a table in tests.
class DomainSource {
 public:
  virtual ~DomainSource() = default;
  virtual std::string uri() const = 0;
  // Every defined domain, running or not.
  virtual Result<std::vector<std::string>> domain_names() = 0;
  // The persistent definition (what `virsh edit` edits). ENOENT when there is no such domain.
  virtual Result<std::string> domain_xml(const std::string& name) = 0;
  // The bridge a libvirt network plugs guests into.
  virtual Result<std::string> network_bridge(const std::string& network) = 0;
  virtual Result<std::string> capabilities() = 0;
  // The hypervisor's version in libvirt's encoding (3001000 = 3.1.0), when known.
  virtual std::optional<unsigned long> hypervisor_version() = 0;
  // The guest agent's channel of a running domain; nullptr (with a note) when it is not running.
  virtual Result<std::unique_ptr<qga::AgentChannel>> agent(const std::string& name) = 0;
};

namespace advise_exit {
inline constexpr int kNoFindings = 0;
inline constexpr int kSystem = 1;        // the host's files could not be read
inline constexpr int kUsage = 2;         // bad usage, or no such domain
inline constexpr int kFindings = 6;      // some recommended change found
inline constexpr int kNoLibvirt = 10;    // libvirt could not be reached
inline constexpr int kSomeDomains = 15;  // --all: some domains could not be read
}  // namespace advise_exit

// What the guest's agent says, validated (everything from the guest is hostile): `guest-nettune
// status --json` for its NICs' queues and qemu-ga's guest-network-get-interfaces for their MACs.
Result<GuestView> read_guest(qga::AgentChannel& channel, const std::string& guest_path, double timeout);
// Validates the two documents (exposed for tests and the fuzz target).
Result<GuestView> guest_view_from(const nlohmann::json& status, const nlohmann::json& interfaces);

// Runs advise; `source` may be null when only --host is asked. Returns the exit code.
int run_advise(const AdviseOptions& o, DomainSource* source, HostNicIo& nics, std::ostream& out, std::ostream& err);

}  // namespace gn::advise
