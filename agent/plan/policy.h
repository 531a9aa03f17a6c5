// Policy: what the user asked for (profile, NICs, switches, values), already validated.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gn {

enum class Profile { Observe, Balanced, Throughput, Latency };
const char* to_string(Profile p);
std::optional<Profile> profile_from_string(std::string_view s);

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

// A sysctl value a profile sets. Throughput's NAPI budgets are floors: a kernel whose value is
// already higher keeps it (6.x refuses netdev_budget_usecs below two jiffies, 8000 at HZ=250).
struct ProfileSysctl {
  long long value = 0;
  bool at_least = false;
};
// The sysctl values a profile sets (before overrides), by full name.
std::map<std::string, ProfileSysctl> profile_sysctls(Profile p);

// Kernel rules for interface names (dev_valid_name): 1-15 bytes, not "." or "..", no '/',
// ':' or white space. The error says which rule.
Result<void> validate_interface_name(const std::string& name);

}  // namespace gn
