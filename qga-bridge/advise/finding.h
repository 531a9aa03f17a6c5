// What `guest-nettune-host advise` reports: one Finding per thing on the host or in a domain
// definition that costs packet rate, with the guide's own mark, what was seen, why it costs
// packet rate, and the exact change.
#pragma once

#include <string>
#include <vector>

namespace gn::advise {

// The guide's marks. TradeOff is for what the guide did with a cost attached (mitigations off):
// reported, never recommended, never counted in the exit code.
enum class Severity { Recommended, Optional, TradeOff };
const char* to_string(Severity s);
bool severity_from_string(const std::string& s, Severity& out);

// How the change is applied.
enum class ChangeKind {
  DomainXml,  // a fragment to paste into `virsh edit DOMAIN`
  Virsh,      // a virsh command
  Sysctl,     // a line for /etc/sysctl.d/*.conf (and `sysctl -w`)
  Ethtool,    // an ethtool command line
  Modprobe,   // a line for /etc/modprobe.d/*.conf (the module reloaded, or a reboot)
  Command,    // another command (systemctl, cpupower, echo into /sys)
  Firmware,   // a BIOS/firmware or kernel command line setting: said, not a command
  Guest,      // a command for the guest (through guest-nettune-host)
};
const char* to_string(ChangeKind k);
bool change_kind_from_string(const std::string& s, ChangeKind& out);

struct Change {
  ChangeKind kind = ChangeKind::Command;
  std::string text;  // exact: the fragment, command or line(s)
};

struct Finding {
  std::string id;      // stable, e.g. "vcpu-pinning", "bridge-nf-call"
  std::string scope;   // "host" or "domain NAME"
  std::string subject; // what it is about within the scope: "interface 52:54:00:..", "eno1", ""
  Severity severity = Severity::Recommended;
  std::string seen;    // what was seen
  std::string why;     // why it costs packet rate (one line)
  std::vector<Change> changes;
};

// The report for one run: the findings and what could not be looked at (and why).
struct Report {
  std::string connect;                // the libvirt URI the domains came from
  std::vector<std::string> domains;   // the domains examined
  bool host = false;                  // the host was examined
  std::vector<Finding> findings;
  std::vector<std::string> notes;     // "domain x: the guest's agent did not answer (...)"
  std::vector<std::string> errors;    // domains that could not be read at all
  // True when some finding is Recommended (the exit code 6).
  bool has_recommended() const;
};

}  // namespace gn::advise
