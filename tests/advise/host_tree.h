// Snapshot trees of hypervisor hosts for advise: CPU topology (nodes, sockets, cores, SMT),
// module parameters, sysctls, a bridge with guests' taps over a physical NIC, and that NIC's
// ethtool answers. Written under a directory and read back through SysRoot like a real host.
#pragma once

#include <map>
#include <string>

namespace gn::test {

struct HostSpec {
  unsigned sockets = 2, cores_per_socket = 10;
  bool smt = true;
  unsigned nodes_per_socket = 1;  // NUMA nodes per socket (AMD's NPS); 0: one node for the host
  std::string vendor = "GenuineIntel";
  std::string kernel = "5.4.0-150-generic";
  std::string cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro";
  int nic_node = 0;           // the physical NIC's device/numa_node (-1: none)
  std::string nic = "eno1", bridge = "br0";
  unsigned guest_taps = 1;    // vnetN ports on the bridge
  std::string rings = "rx 256\nrx_max 4096\ntx 256\ntx_max 4096\n";
  std::string udp4 = "sdfn";
  std::map<std::string, std::string> files;  // extra or overriding files: rel path → content
};

// The guide's host: 2 sockets × 10 cores, SMT on (socket 0: CPUs 0–9 and 20–29), NIC on node 0,
// tuned as the guide says (bridge netfilter off, NAPI budgets, vhost_net with zero copy, EPT).
HostSpec guide_host();
// The same host with every host-side finding present.
HostSpec untuned_host();

void write_host_tree(const HostSpec& h, const std::string& dir);

// Named trees for scripts (make-host-tree NAME DIR) and tests.
const std::map<std::string, HostSpec>& named_host_trees();

}  // namespace gn::test
