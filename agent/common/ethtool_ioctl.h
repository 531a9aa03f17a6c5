// The SIOCETHTOOL request, for both sides: the agent's probe and apply (driver, channels,
// statistics) and the host's advise (ring sizes, RX hash fields). One socket per call.
#pragma once

#include <string>

#include "result.h"

namespace gn {

// Sends one ethtool command to NIC; DATA is the command's struct, its first field the ETHTOOL_*
// number. The value is the ioctl's errno, 0 when it succeeded; an error only when the request
// could not be made at all (a name that cannot be an interface's, no socket).
Result<int> ethtool_ioctl(const std::string& nic, void* data);

}  // namespace gn
