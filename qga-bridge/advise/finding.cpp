#include "finding.h"

#include <array>
#include <utility>

namespace gn::advise {

namespace {
constexpr std::array<std::pair<Severity, const char*>, 3> kSeverities = {{
    {Severity::Recommended, "recommended"},
    {Severity::Optional, "optional"},
    {Severity::TradeOff, "trade-off"},
}};
constexpr std::array<std::pair<ChangeKind, const char*>, 8> kChangeKinds = {{
    {ChangeKind::DomainXml, "domain-xml"},
    {ChangeKind::Virsh, "virsh"},
    {ChangeKind::Sysctl, "sysctl"},
    {ChangeKind::Ethtool, "ethtool"},
    {ChangeKind::Modprobe, "modprobe"},
    {ChangeKind::Command, "command"},
    {ChangeKind::Firmware, "firmware"},
    {ChangeKind::Guest, "guest"},
}};

template <class E, size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E v) {
  for (const auto& [e, n] : table)
    if (e == v) return n;
  return "?";
}
template <class E, size_t N>
bool value_of(const std::array<std::pair<E, const char*>, N>& table, const std::string& s, E& out) {
  for (const auto& [e, n] : table)
    if (s == n) {
      out = e;
      return true;
    }
  return false;
}
}  // namespace

const char* to_string(Severity s) { return name_of(kSeverities, s); }
bool severity_from_string(const std::string& s, Severity& out) { return value_of(kSeverities, s, out); }
const char* to_string(ChangeKind k) { return name_of(kChangeKinds, k); }
bool change_kind_from_string(const std::string& s, ChangeKind& out) { return value_of(kChangeKinds, s, out); }

bool Report::has_recommended() const {
  for (const auto& f : findings)
    if (f.severity == Severity::Recommended) return true;
  return false;
}

}  // namespace gn::advise
