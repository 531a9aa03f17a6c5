#include "session.h"

#include <spdlog/spdlog.h>

#include "exit_codes.h"
#include "probe.h"

namespace gn {

std::unique_ptr<EthtoolIo> make_ethtool(const SysRoot& root) {
  if (root.is_snapshot()) return std::make_unique<SnapshotEthtool>(root);
  return std::make_unique<IoctlEthtool>();
}

Result<void> check_interfaces_exist(const Facts& facts, const Policy& policy) {
  for (const auto& name : policy.interfaces) {
    if (facts.find_nic(name)) continue;
    std::string known;
    for (const auto& n : facts.nics) known += (known.empty() ? "" : ", ") + n.name;
    return make_error("interface '" + name + "'", "no such interface", "this system has: " + known);
  }
  return {};
}

int probe_and_plan(const CliOptions& o, Session& s, bool plan_only) {
  auto facts = probe(s.root, *s.ethtool, ProbeOptions{o.policy.drivers, profile_bit(o.policy.profile), plan_only});
  if (!facts) {
    spdlog::error("{}", facts.error().text());
    return exit_code::kFailed;
  }
  if (auto r = check_interfaces_exist(*facts, o.policy); !r) {
    spdlog::error("{}", r.error().text());
    return exit_code::kUsage;
  }
  s.facts = std::move(*facts);
  s.plan = make_plan(*s.facts, o.policy);
  return exit_code::kOk;
}

}  // namespace gn
