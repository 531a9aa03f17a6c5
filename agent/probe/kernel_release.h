// Kernel release → how this kernel's virtio_net picks a transmit queue (docs/kernel-notes.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace gn {

enum class DriverBehaviour {
  DriverSelectsQueue,  // upstream 3.8-3.12, RHEL 7 below 3.10.0-1160: XPS is ignored
  XpsOnlyWhenEqual,    // 3.13-4.18, RHEL 7.9, RHEL 8.0-8.2 (below 4.18.0-240): XPS set 1:1 only when queues == CPUs
  DriverStripes,       // >= 4.19, RHEL 8.3+: the driver stripes XPS and rewrites it on events
};

const char* to_string(DriverBehaviour b);
std::optional<DriverBehaviour> driver_behaviour_from_string(std::string_view s);

struct KernelRelease {
  std::string text;          // as in osrelease
  unsigned major = 0, minor = 0, patch = 0;
  std::optional<unsigned> build;  // the N of "3.10.0-N.el7"
  unsigned el = 0;           // 7 for ".el7", 8 for ".el8", ...; 0 when not an Enterprise Linux build
};

Result<KernelRelease> parse_kernel_release(std::string_view text);

// What the feature probe found: whether any tx queue has xps_rxqs (upstream, only the >= 4.19
// driver's kernels have it; RHEL 8.1 backports it without that driver, so on Enterprise Linux
// builds it is not evidence), or nothing to look at (no queue directory with XPS files).
enum class XpsRxqsProbe { Present, Absent, Unknown };

struct BehaviourVerdict {
  DriverBehaviour behaviour;
  std::string evidence;  // why, for the report
};

BehaviourVerdict classify_driver(const KernelRelease& k, XpsRxqsProbe probe);

}  // namespace gn
