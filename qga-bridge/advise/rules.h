// The guide's checks as pure functions: facts in, findings out, no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain.h"
#include "finding.h"
#include "host_facts.h"
#include "topology.h"

namespace gn::advise {

// What the guest's own agent said (guest-nettune status and qemu-ga's interface list), when it
// answered. Everything in it came from the guest and has been validated.
struct GuestNic {
  std::string name;   // the guest's interface name
  std::string mac;    // "" when the guest did not say
  unsigned queues_current = 0, queues_max = 0;
};
struct GuestView {
  unsigned cpus_online = 0;
  std::vector<GuestNic> nics;  // tunable virtio NICs
};

// The physical NICs behind one interface of the domain (through its bridge, or the macvtap
// device), with their NUMA nodes.
struct UplinkNic {
  std::string name;
  std::optional<int> node;
};

struct DomainContext {
  DomainSpec spec;
  std::map<unsigned, std::string> bridges;              // interface index → host bridge (resolved)
  std::map<unsigned, std::vector<UplinkNic>> uplinks;   // interface index → physical NICs
  std::optional<GuestView> guest;
  std::string cpu_vendor;                               // the host's: AuthenticAMD, GenuineIntel
  std::optional<unsigned long> qemu_version;            // libvirt's encoding: 3001000 = 3.1.0
  std::string connect_uri = "qemu:///system";
};

// A placement the guide would choose for `vcpus` vCPUs: one per core on `node`, the node's
// first core left to the host, the emulator on the node's remaining cores or, when the vCPUs
// fill the node, on another node.
struct Placement {
  unsigned node = 0;
  std::vector<unsigned> vcpu_cpus;  // vCPU i → pCPU
  CpuSet emulator;
  unsigned fits = 0;                // how many vCPUs the node can take this way
  std::string note;                 // what had to give
};
Placement propose_placement(const HostTopology& topo, unsigned vcpus, unsigned node);
// The emulator set for vCPUs already placed on `vcpu_set` (node `node`).
CpuSet propose_emulator(const HostTopology& topo, const CpuSet& vcpu_set, unsigned node);

// "<cputune>…</cputune>" for the given pins.
std::string cputune_fragment(const std::vector<unsigned>& vcpu_cpus, const CpuSet& emulator);

std::vector<Finding> domain_findings(const DomainContext& d, const HostTopology& topo);
std::vector<Finding> host_findings(const HostFacts& h, const CpuSet& pinned_vcpus);

}  // namespace gn::advise
