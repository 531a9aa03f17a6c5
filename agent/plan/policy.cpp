#include "policy.h"

namespace gn {

const char* to_string(Profile p) {
  switch (p) {
    case Profile::Observe: return "observe";
    case Profile::Balanced: return "balanced";
    case Profile::Throughput: return "throughput";
    case Profile::Latency: return "latency";
  }
  return "?";
}

std::optional<Profile> profile_from_string(std::string_view s) {
  for (auto p : {Profile::Observe, Profile::Balanced, Profile::Throughput, Profile::Latency})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

const char* to_string(RpsMode m) {
  switch (m) {
    case RpsMode::Auto: return "auto";
    case RpsMode::On: return "on";
    case RpsMode::Off: return "off";
  }
  return "?";
}

std::optional<RpsMode> rps_mode_from_string(std::string_view s) {
  for (auto m : {RpsMode::Auto, RpsMode::On, RpsMode::Off})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

std::map<std::string, ProfileSysctl> profile_sysctls(Profile p) {
  switch (p) {
    case Profile::Observe:
    case Profile::Balanced:
      return {};
    case Profile::Throughput:
      // The source methodology's values for 0.5-2 Mpps.
      return {{"net.core.netdev_max_backlog", {100000, true}},
              {"net.core.netdev_budget", {50000, true}},
              {"net.core.netdev_budget_usecs", {5000, true}},
              {"net.core.dev_weight", {6000, true}}};
    case Profile::Latency:
      return {{"net.core.busy_poll", {50, false}}, {"net.core.busy_read", {50, false}}};
  }
  return {};
}

Result<void> validate_interface_name(const std::string& name) {
  const auto bad = [&](const std::string& why) {
    return make_error("interface '" + name + "'", why, "give the name as `ip link` shows it");
  };
  if (name.empty()) return bad("empty name");
  if (name.size() > 15) return bad("longer than 15 bytes");
  if (name == "." || name == ".." || name.find("..") != std::string::npos) return bad("contains '..'");
  for (char c : name) {
    if (c == '/') return bad("contains '/'");
    if (c == ':') return bad("contains ':'");
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return bad("contains white space");
  }
  return {};
}

}  // namespace gn
