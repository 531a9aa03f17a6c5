// `plan` and `capture`: probe, plan, print.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "capture.h"
#include "commands.h"
#include "exit_codes.h"
#include "plan.h"
#include "plan_render.h"
#include "probe.h"
#include "session.h"

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

int run_plan(const CliOptions& o, std::ostream& out) {
  const SysRoot root(o.root);
  auto ethtool = make_ethtool(root);
  auto facts = probe(root, *ethtool, ProbeOptions{o.policy.drivers});
  if (!facts) {
    spdlog::error("{}", facts.error().text());
    return exit_code::kFailed;
  }
  if (auto r = check_interfaces_exist(*facts, o.policy); !r) {
    spdlog::error("{}", r.error().text());
    return exit_code::kUsage;
  }
  const Plan plan = make_plan(*facts, o.policy);
  if (o.json) out << plan_json(*facts, o.policy, plan).dump(2) << "\n";
  else render_plan_table(out, *facts, o.policy, plan);
  return exit_code::kOk;
}

int run_capture(const CliOptions& o, std::ostream& out) {
  const SysRoot root(o.root);
  auto ethtool = make_ethtool(root);
  auto n = capture_snapshot(root, *ethtool, ProbeOptions{o.policy.drivers}, o.capture_dir);
  if (!n) {
    spdlog::error("{}", n.error().text());
    return exit_code::kFailed;
  }
  out << "captured " << *n << " files into " << o.capture_dir << " (plan it with --root " << o.capture_dir << ")\n";
  return exit_code::kOk;
}

}  // namespace gn
