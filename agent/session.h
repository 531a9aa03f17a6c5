// Helpers every subcommand shares: the ethtool backend for a root, interface checks.
#pragma once

#include <memory>

#include "ethtool.h"
#include "facts.h"
#include "policy.h"
#include "sysroot.h"

namespace gn {

// The ioctl on a live system, the snapshot's files under --root.
std::unique_ptr<EthtoolIo> make_ethtool(const SysRoot& root);
// Every --interface names an existing NIC; the error lists the ones there are.
Result<void> check_interfaces_exist(const Facts& facts, const Policy& policy);

}  // namespace gn
