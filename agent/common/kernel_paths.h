// Where the kernel interfaces the agent uses live, relative to a root ("/" or a snapshot).
// Names only: opening them is SysRoot's job (sysroot.h).
#pragma once

#include <string>

namespace gn {

// Relative paths of the kernel interfaces the agent uses, in one place.
namespace paths {
inline const std::string kNetClass = "sys/class/net";
inline const std::string kCpuDir = "sys/devices/system/cpu";
inline const std::string kNodeDir = "sys/devices/system/node";
inline const std::string kOsRelease = "proc/sys/kernel/osrelease";
inline const std::string kBootId = "proc/sys/kernel/random/boot_id";  // one UUID per boot
inline const std::string kInterrupts = "proc/interrupts";
inline const std::string kSoftnetStat = "proc/net/softnet_stat";
inline const std::string kIrqDir = "proc/irq";
inline const std::string kNetCoreSysctl = "proc/sys/net/core";
inline const std::string kProc = "proc";
inline const std::string kProcSys = "proc/sys";
inline const std::string kIptablesNames = "proc/net/ip_tables_names";
inline const std::string kSys = "sys";
// What a snapshot holds besides copies of kernel files (see docs/snapshot-format.md).
inline const std::string kSnapshotDir = "guest-nettune-snapshot";
inline const std::string kSnapshotEthtool = "guest-nettune-snapshot/ethtool";
inline const std::string kSnapshotUnreadable = "guest-nettune-snapshot/unreadable";
}  // namespace paths

}  // namespace gn
