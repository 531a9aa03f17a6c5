// Helpers every subcommand shares: the ethtool backend for a root, interface checks.
#pragma once

#include <memory>
#include <string>

#include "ethtool.h"
#include "facts.h"
#include "policy.h"
#include "sysroot.h"

namespace gn {

// The ioctl on a live system, the snapshot's files under --root.
std::unique_ptr<EthtoolIo> make_ethtool(const SysRoot& root);
// Where the last apply's result is kept: RUN_DIR/guest-nettune/status.json.
inline std::string status_path(const std::string& run_dir) { return run_dir + "/guest-nettune/status.json"; }
// Every --interface names an existing NIC; the error lists the ones there are.
Result<void> check_interfaces_exist(const Facts& facts, const Policy& policy);

}  // namespace gn
