#include "kernel_release.h"

#include <charconv>

#include "cpuset.h"

namespace gn {

const char* to_string(DriverBehaviour b) {
  switch (b) {
    case DriverBehaviour::DriverSelectsQueue: return "driver-selects-queue";
    case DriverBehaviour::XpsOnlyWhenEqual: return "xps-only-when-equal";
    case DriverBehaviour::DriverStripes: return "driver-stripes-xps";
  }
  return "unknown";
}

std::optional<DriverBehaviour> driver_behaviour_from_string(std::string_view s) {
  for (auto b : {DriverBehaviour::DriverSelectsQueue, DriverBehaviour::XpsOnlyWhenEqual,
                 DriverBehaviour::DriverStripes})
    if (s == to_string(b)) return b;
  return std::nullopt;
}

namespace {
// Reads a decimal number at the front of s and advances s past it.
bool take_number(std::string_view& s, unsigned& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}
}  // namespace

Result<KernelRelease> parse_kernel_release(std::string_view text) {
  text = trim(text);
  KernelRelease k;
  k.text = std::string(text);
  std::string_view s = text;
  const auto bad = [&] {
    return make_error("", "unrecognised kernel release '" + std::string(text) + "'");
  };
  if (!take_number(s, k.major) || s.empty() || s.front() != '.') return bad();
  s.remove_prefix(1);
  if (!take_number(s, k.minor)) return bad();
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    if (!take_number(s, k.patch)) return bad();
  }
  if (!s.empty() && s.front() == '-') {
    s.remove_prefix(1);
    unsigned b = 0;
    if (take_number(s, b)) k.build = b;
  }
  if (const auto pos = text.find(".el"); pos != std::string_view::npos) {
    std::string_view rest = text.substr(pos + 3);
    unsigned el = 0;
    if (take_number(rest, el)) k.el = el;
  }
  return k;
}

// The rules and their evidence are described in docs/kernel-notes.md.
BehaviourVerdict classify_driver(const KernelRelease& k, XpsRxqsProbe probe) {
  const auto version_below = [&](unsigned maj, unsigned min) {
    return k.major < maj || (k.major == maj && k.minor < min);
  };
  // Enterprise Linux: backports make feature files unreliable (RHEL 8.1 has xps_rxqs without the
  // striping driver), so the build number decides and xps_rxqs is not looked at.
  if (k.el == 7 && k.major == 3 && k.minor == 10 && k.build) {
    if (*k.build < 1160)
      return {DriverBehaviour::DriverSelectsQueue,
              "RHEL 7 kernel " + k.text + " (build below 1160): virtio_net picks the tx queue itself"};
    return {DriverBehaviour::XpsOnlyWhenEqual,
            "RHEL 7.9 kernel " + k.text +
                " (build 1160 or later): the driver sets XPS only when queues == CPUs"};
  }
  if (k.el == 8 && k.major == 4 && k.minor == 18 && k.build) {
    if (*k.build < 240)
      return {DriverBehaviour::XpsOnlyWhenEqual,
              "RHEL 8.0-8.2 kernel " + k.text +
                  " (build below 240): the driver sets XPS only when queues == CPUs"};
    return {DriverBehaviour::DriverStripes,
            "RHEL 8.3+ kernel " + k.text + " (build 240 or later): the driver stripes XPS itself"};
  }
  if (version_below(3, 13))
    return {DriverBehaviour::DriverSelectsQueue,
            "kernel " + k.text + " (before 3.13): virtio_net picks the tx queue itself"};
  // Other kernels: the feature file is the evidence when there is a queue to look at.
  if (k.el == 0 && probe == XpsRxqsProbe::Present)
    return {DriverBehaviour::DriverStripes, "xps_rxqs present: the driver stripes XPS itself (4.19+)"};
  if (k.el == 0 && probe == XpsRxqsProbe::Absent)
    return {DriverBehaviour::XpsOnlyWhenEqual,
            "xps_cpus without xps_rxqs: the driver sets XPS only when queues == CPUs (3.13-4.18)"};
  if (!version_below(4, 19))
    return {DriverBehaviour::DriverStripes,
            "kernel " + k.text + " is 4.19 or later: the driver stripes XPS itself"};
  return {DriverBehaviour::XpsOnlyWhenEqual,
          "kernel " + k.text + " is 3.13-4.18: the driver sets XPS only when queues == CPUs"};
}

}  // namespace gn
