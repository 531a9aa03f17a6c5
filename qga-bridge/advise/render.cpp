#include "render.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace gn::advise {

nlohmann::json report_json(const Report& r, const std::string& connect_uri) {
  nlohmann::json findings = nlohmann::json::array();
  std::map<Severity, int> counts;
  for (const auto& f : r.findings) {
    ++counts[f.severity];
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : f.changes) changes.push_back({{"kind", to_string(c.kind)}, {"text", c.text}});
    findings.push_back({{"id", f.id},
                        {"scope", f.scope},
                        {"subject", f.subject},
                        {"severity", to_string(f.severity)},
                        {"seen", f.seen},
                        {"why", f.why},
                        {"changes", changes}});
  }
  return {{"schema_version", kAdviseSchemaVersion},
          {"command", "advise"},
          {"connect", connect_uri},
          {"domains", r.domains},
          {"host", r.host},
          {"findings", findings},
          {"summary",
           {{"recommended", counts[Severity::Recommended]},
            {"optional", counts[Severity::Optional]},
            {"trade_off", counts[Severity::TradeOff]}}},
          {"notes", r.notes},
          {"errors", r.errors}};
}

namespace {
std::string change_intro(ChangeKind k, const Report& r, const std::string& scope) {
  switch (k) {
    case ChangeKind::DomainXml:
      return "paste into `virsh -c " + shell_word(r.connect) + " edit " + shell_word(scope.substr(7)) + "`:";
    case ChangeKind::Virsh: return "virsh:";
    case ChangeKind::Sysctl: return "sysctl (/etc/sysctl.d/90-guest-nettune.conf, then sysctl --system):";
    case ChangeKind::Ethtool: return "ethtool (and in the NIC's network configuration to keep it):";
    case ChangeKind::Modprobe: return "modprobe (/etc/modprobe.d/guest-nettune.conf):";
    case ChangeKind::Command: return "command:";
    case ChangeKind::Firmware: return "firmware / boot:";
    case ChangeKind::Guest: return "in the guest:";
  }
  return "change:";
}

void indent(std::ostream& out, const std::string& text, const char* pad) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out << pad << neutralise(line, 512) << "\n";
}
}  // namespace

void render_report(std::ostream& out, const Report& r) {
  // Scopes in order of first appearance: each domain, then the host.
  std::vector<std::string> scopes;
  for (const auto& f : r.findings)
    if (std::find(scopes.begin(), scopes.end(), f.scope) == scopes.end()) scopes.push_back(f.scope);
  for (const auto& scope : scopes) {
    std::map<Severity, int> counts;
    for (const auto& f : r.findings)
      if (f.scope == scope) ++counts[f.severity];
    out << "== " << neutralise(scope) << ": " << counts[Severity::Recommended] << " recommended, "
        << counts[Severity::Optional] << " optional";
    if (counts[Severity::TradeOff]) out << ", " << counts[Severity::TradeOff] << " trade-off";
    out << "\n";
    std::set<std::string> shown;  // changes already printed in this scope
    for (const auto& f : r.findings) {
      if (f.scope != scope) continue;
      out << "\n[" << to_string(f.severity) << "] " << f.id;
      if (!f.subject.empty()) out << " — " << neutralise(f.subject);
      out << "\n  seen:   " << neutralise(f.seen, 512) << "\n  why:    " << neutralise(f.why, 512) << "\n";
      for (const auto& c : f.changes) {
        if (!shown.insert(c.text).second) {
          out << "  change: the same as above (" << to_string(c.kind) << ")\n";
          continue;
        }
        out << "  change: " << neutralise(change_intro(c.kind, r, scope), 512) << "\n";
        indent(out, c.text, "      ");
      }
    }
    out << "\n";
  }
  for (const auto& d : r.domains) {
    bool any = false;
    for (const auto& f : r.findings) any = any || f.scope == "domain " + d;
    if (!any) out << "== domain " << neutralise(d) << ": follows the guide (no findings)\n";
  }
  if (r.host) {
    bool any = false;
    for (const auto& f : r.findings) any = any || f.scope == "host";
    if (!any) out << "== host: follows the guide (no findings)\n";
  }
  for (const auto& n : r.notes) out << "note: " << neutralise(n, 512) << "\n";
  for (const auto& e : r.errors) out << "error: " << neutralise(e, 512) << "\n";
}

}  // namespace gn::advise
