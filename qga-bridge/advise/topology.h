// The host's CPUs as advise needs them: NUMA node, socket and core of each CPU, and its SMT
// siblings. From libvirt's capabilities (<topology><cells>) or from a host's /sys through SysRoot.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "cpuset.h"
#include "result.h"
#include "sysroot.h"

namespace gn::advise {

struct HostCpu {
  unsigned id = 0;
  unsigned node = 0;
  unsigned socket = 0;
  unsigned core = 0;
  CpuSet siblings;  // the CPUs sharing this CPU's core, itself included
};

struct HostTopology {
  std::map<unsigned, HostCpu> cpus;
  std::map<unsigned, CpuSet> nodes;  // node → its CPUs

  const HostCpu* cpu(unsigned id) const;
  // The nodes `set` touches (CPUs not in the topology are left out).
  CpuSet nodes_of(const CpuSet& set) const;
  // One CPU per core: the lowest thread of each core of `set`'s CPUs.
  unsigned cores_in(const CpuSet& set) const;
  CpuSet all_cpus() const;
  bool smt() const;  // some core has more than one thread
  unsigned sockets() const;
};

// libvirt's capabilities document (virConnectGetCapabilities).
Result<HostTopology> parse_capabilities(std::string_view text);

// /sys/devices/system/node/node*/cpulist and cpu*/topology/{thread_siblings_list,
// physical_package_id,core_id} under `root`. A host without node directories is one node.
Result<HostTopology> read_topology(const SysRoot& root);

}  // namespace gn::advise
