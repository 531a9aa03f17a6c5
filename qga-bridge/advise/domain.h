// What advise needs from a libvirt domain definition (virDomainGetXMLDesc), parsed from text.
// Everything is optional in libvirt's XML and everything here is checked: numbers are bounded,
// CPU sets parsed strictly, interface names validated before they name anything in /sys.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpuset.h"
#include "result.h"

namespace gn::advise {

inline constexpr unsigned kMaxCpu = 16383;   // CPU numbers this tool accepts in a cpuset
inline constexpr unsigned kMaxVcpus = 4096;

struct DomainInterface {
  unsigned index = 0;          // position among the domain's <interface> elements
  std::string type;            // bridge, network, direct, ethernet, vhostuser, hostdev, ...
  std::string mac;             // "" when absent or not a MAC
  std::string source;          // the bridge, network or device named in <source>
  std::string bridge;          // the host bridge it plugs into ("" unknown); for network: resolved later
  std::string model;           // virtio, e1000, rtl8139, ... ("" when absent)
  std::string driver_name;     // vhost, qemu, "" (libvirt picks vhost when it can)
  std::optional<unsigned> queues, rx_queue_size, tx_queue_size;
  std::optional<unsigned> coalesce_rx_frames;
  // "interface 52:54:00:12:34:56" (or "interface #2" without a MAC), as an admin finds it.
  std::string label() const;
};

struct MemNode {
  unsigned cellid = 0;
  std::string mode;
  CpuSet nodeset;  // host NUMA nodes
};

struct DomainSpec {
  std::string name;
  std::string uuid;
  unsigned vcpus = 1;                     // <vcpu> (the maximum)
  std::optional<unsigned> vcpus_current;  // <vcpu current='N'>
  std::string vcpu_placement;             // static | auto | ""
  std::optional<CpuSet> vcpu_cpuset;      // <vcpu cpuset=...>: a pool for every vCPU, not a pin
  std::map<unsigned, CpuSet> vcpupin;     // <cputune><vcpupin vcpu= cpuset=>
  std::optional<CpuSet> emulatorpin;
  bool numatune = false;
  std::string numa_mode;                  // <numatune><memory mode=> ("" when absent)
  std::optional<CpuSet> numa_nodeset;     // <numatune><memory nodeset=>
  std::string numa_placement;             // <numatune><memory placement=>
  std::vector<MemNode> memnodes;
  std::string cpu_mode;                   // host-passthrough, host-model, custom, maximum ("" = custom)
  bool cpu_cache_passthrough = false;
  bool hugepages = false;
  bool hyperv = false;                    // <features><hyperv> present
  std::string os_id;                      // libosinfo's os id from <metadata>, when present
  std::vector<DomainInterface> interfaces;
  bool windows() const;
};

// libvirt's cpuset syntax: "1-4,^3,8" (ranges, exclusions). CPUs above kMaxCpu are refused.
Result<CpuSet> parse_libvirt_cpuset(std::string_view text);

// A Linux interface name that can be used in a /sys path: 1..15 bytes, no '/', no whitespace or
// control bytes, not "." or "..".
bool valid_ifname(std::string_view name);

// Parses a domain document. `what` names it in errors ("domain web1").
Result<DomainSpec> parse_domain_xml(std::string_view text, const std::string& what);

}  // namespace gn::advise
