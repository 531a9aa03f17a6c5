// Policy: what the user asked for (profile, NICs, switches, values), already validated.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalogue.h"
#include "result.h"

namespace gn {

enum class RpsMode { Auto, On, Off };
const char* to_string(RpsMode m);
std::optional<RpsMode> rps_mode_from_string(std::string_view s);

struct Policy {
  Profile profile = Profile::Throughput;
  std::vector<std::string> interfaces;  // empty: every tunable NIC
  std::set<std::string> exclude;
  std::set<std::string> drivers{"virtio_net"};
  bool channels = true;
  std::optional<unsigned> channel_cap;  // at most this many channels
  bool xps = true;
  RpsMode rps = RpsMode::Auto;
  bool irq_affinity = true;
  bool sysctls = true;
  unsigned rps_sock_flow_entries = 32768;
  std::map<std::string, long long> sysctl_overrides;  // "net.core.netdev_budget" → value
};

// Kernel rules for interface names (dev_valid_name): 1-15 bytes, not "." or "..", no '/',
// ':' or white space. The error says which rule.
Result<void> validate_interface_name(const std::string& name);

}  // namespace gn
