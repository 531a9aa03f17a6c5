// What every subcommand starts with: the root, the ethtool backend for it, the facts and the
// plan; and the paths the commands share.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "ethtool.h"
#include "facts.h"
#include "plan.h"
#include "policy.h"
#include "sysroot.h"

namespace gn {

// The ioctl on a live system, the snapshot's files under --root.
std::unique_ptr<EthtoolIo> make_ethtool(const SysRoot& root);
// Every --interface names an existing NIC; the error lists the ones there are.
Result<void> check_interfaces_exist(const Facts& facts, const Policy& policy);

// Where the last apply's result is kept: RUN_DIR/guest-nettune/status.json.
inline std::string status_path(const std::string& run_dir) { return run_dir + "/guest-nettune/status.json"; }

struct Session {
  explicit Session(const CliOptions& o) : root(o.root), ethtool(make_ethtool(root)) {}
  const SysRoot root;
  std::unique_ptr<EthtoolIo> ethtool;
  std::optional<Facts> facts;
  std::optional<Plan> plan;
};

// Probes and plans; on failure logs the error and returns the exit code (0 on success). With
// `plan_only` the probe reads only what the plan uses (apply: ProbeOptions::plan_only).
int probe_and_plan(const CliOptions& o, Session& s, bool plan_only = false);

}  // namespace gn
