// Probe: reads the system (through SysRoot and EthtoolIo only) into Facts. Never writes.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ethtool.h"
#include "facts.h"
#include "result.h"
#include "sysroot.h"

namespace gn {

struct ProbeOptions {
  // Drivers whose NICs are tuned; virtio_net unless told otherwise (--driver).
  std::set<std::string> drivers{"virtio_net"};
  // The profiles being planned (profile_bit): queue files of kinds none of them plans are not
  // read. All of them by default (capture, tests).
  unsigned profiles = kTuningProfiles;
  // Only what a plan uses (apply): no softnet counters or mitigations (status and check report
  // them), and irqbalance looked for only when a tunable NIC has queue IRQs for it to move.
  bool plan_only = false;
};

Result<Facts> probe(const SysRoot& root, EthtoolIo& ethtool, const ProbeOptions& opts);

// The devices below an upper device (bond, bridge, team, vlan, ...): its lower_* links, else a
// bond's slave list or a bridge's brif/. Empty for a device with none.
std::vector<std::string> lower_devices(const SysRoot& root, const std::string& nic);

}  // namespace gn
