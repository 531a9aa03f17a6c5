// What advise reads on the hypervisor host, through SysRoot (so a snapshot tree of a host reads
// like the host) and HostNicIo. Read only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalogue.h"
#include "host_nic.h"
#include "result.h"
#include "sysroot.h"
#include "topology.h"

namespace gn::advise {

struct HostNicFacts {
  std::string name;
  std::optional<int> numa_node;   // device/numa_node; nullopt when -1 or absent
  Result<Rings> rings = Rings{};
  Result<uint64_t> udp4_hash = uint64_t{0};
};

struct BridgeFacts {
  std::string name;
  std::vector<std::string> guest_ports;    // tap devices (tun_flags): guests' NICs
  std::vector<std::string> physical;       // physical NICs under it (through bonds and VLANs too)
};

struct HostFacts {
  std::string kernel_release;
  std::string cmdline;
  std::string cpu_vendor;                   // AuthenticAMD, GenuineIntel, "" unknown
  std::vector<BridgeFacts> bridges;
  std::map<std::string, std::optional<long>> bridge_nf;   // bridge-nf-call-iptables → 1; nullopt: no br_netfilter
  std::map<std::string, std::optional<long>> net_core;    // netdev_budget → 300
  uint64_t softnet_dropped = 0, softnet_squeezed = 0;
  bool softnet_read = false;
  std::vector<HostNicFacts> nics;           // physical NICs
  bool vhost_net_loaded = false;
  std::optional<std::string> zcopytx;       // vhost_net experimental_zcopytx
  bool kvm_amd = false, kvm_intel = false;
  std::optional<std::string> avic, ept;     // module parameters as printed (1/0, Y/N)
  std::optional<std::string> smt_active, smt_control;
  bool irqbalance = false;
  std::map<std::string, unsigned> governors;  // scaling_governor → CPUs using it
  std::optional<std::string> max_cstate;      // intel_idle
  std::map<std::string, std::string> vulnerabilities;  // file → text
  HostTopology topology;

  const HostNicFacts* nic(const std::string& name) const;
  const BridgeFacts* bridge(const std::string& name) const;
};

// The net.core budgets the guide sets (and the agent's throughput profile uses), in one place.
struct NapiBudget {
  const char* name;
  long value;
};
inline constexpr NapiBudget kNapiBudgets[] = {
    {"netdev_max_backlog", 100000}, {"netdev_budget", 50000}, {"netdev_budget_usecs", 5000}, {"dev_weight", 6000}};
namespace detail {
constexpr bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}
// Each budget is a sysctl of the catalogue whose throughput floor is this value.
constexpr bool budgets_are_the_catalogues() {
  for (const auto& b : kNapiBudgets) {
    bool found = false;
    for (const auto& r : kSysctls)
      if (same_name(r.name, b.name)) found = r.throughput && r.throughput->at_least && r.throughput->value == b.value;
    if (!found) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::budgets_are_the_catalogues(), "kNapiBudgets: the throughput floors of catalogue.h's kSysctls");
inline constexpr const char* kBridgeNf[] = {"bridge-nf-call-iptables", "bridge-nf-call-ip6tables",
                                           "bridge-nf-call-arptables"};

// A physical NIC's NUMA node (device/numa_node), nullopt when unknown.
std::optional<int> nic_numa_node(const SysRoot& root, const std::string& nic);
// The physical NICs a bridge (or any upper device) sits on: its ports, through bonds, VLANs
// and teams (lower_* links and brif/), to the devices that have a `device` link.
std::vector<std::string> physical_under(const SysRoot& root, const std::string& dev);

// Reads everything; a file that is missing is a fact (nullopt), not an error. Errors only when
// the CPU topology cannot be read at all.
Result<HostFacts> probe_host(const SysRoot& root, HostNicIo& nics);

}  // namespace gn::advise
