// Capture: copies every file the probe reads (and the ethtool values, which are not files)
// into a snapshot directory that --root can read. Format: docs/snapshot-format.md.
#pragma once

#include <string>

#include "ethtool.h"
#include "probe.h"
#include "result.h"
#include "sysroot.h"

namespace gn {

// `dest` must not exist or be an empty directory. Returns the number of files written.
Result<unsigned> capture_snapshot(const SysRoot& root, EthtoolIo& ethtool, const ProbeOptions& opts,
                                  const std::string& dest);

}  // namespace gn
