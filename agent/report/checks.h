// `guest-nettune check`: what the guest can see that costs packet rate, each finding with its
// severity, evidence and what to do.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ethtool.h"
#include "facts.h"
#include "load_sample.h"
#include "plan.h"
#include "sysroot.h"

namespace gn {

enum class Severity { Info, Warning };
const char* to_string(Severity s);

struct Finding {
  std::string id;  // host-queues, irqbalance, driver-ignores-xps, filter-rules, mitigations, tx-offloads
  Severity severity = Severity::Info;
  std::string nic;  // "" when global
  std::string evidence;
  std::string what_to_do;
};

// Packet filter rules per table ("nftables filter" → 12, "iptables-legacy filter" → 3), where
// they can be read (nftables through netlink, legacy iptables through IPT_SO_GET_INFO).
struct RuleCounts {
  std::vector<std::pair<std::string, unsigned>> tables;
  std::string unavailable;  // why not, when they cannot
};
RuleCounts count_iptables_rules(const SysRoot& root);

std::vector<Finding> run_checks(const Facts& facts, const Plan& plan, const std::vector<std::string>& nics,
                                EthtoolIo& ethtool, const RuleCounts& rules, const std::optional<LoadSample>& load);

nlohmann::json findings_json(const std::vector<Finding>& findings);
void render_findings(std::ostream& out, const std::vector<Finding>& findings);

}  // namespace gn
