#include "advise.h"

#include <algorithm>
#include <cerrno>

#include "cpuset.h"
#include "domain.h"
#include "guest_exec.h"
#include "host_facts.h"
#include "render.h"
#include "text.h"
#include "topology.h"
#include "xml.h"

namespace gn::advise {

namespace {
constexpr unsigned kMaxGuestNics = 64;
constexpr unsigned kMaxGuestQueues = 1024;

std::optional<unsigned> json_count(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  const auto v = it->get<int64_t>();
  if (v < 0 || v > kMaxGuestQueues) return std::nullopt;
  return static_cast<unsigned>(v);
}

bool plain_mac(const std::string& m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); ++i)
    if (i % 3 == 2 ? m[i] != ':' : !std::isxdigit(static_cast<unsigned char>(m[i]))) return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

Result<GuestView> guest_view_from(const nlohmann::json& status, const nlohmann::json& interfaces) {
  const std::string what = "the guest's status";
  if (!status.is_object() || status.value("schema_version", 0) != 1)
    return make_error(what, "not a guest-nettune status document of schema version 1");
  GuestView v;
  const auto cpus = status.find("cpus");
  if (cpus != status.end() && cpus->is_object()) {
    const auto online = cpus->find("online");
    if (online != cpus->end() && online->is_string() && online->get_ref<const std::string&>().size() < 4096)
      if (auto set = parse_cpulist(online->get<std::string>())) v.cpus_online = set->count();
  }
  const auto nics = status.find("nics");
  if (nics == status.end() || !nics->is_array()) return make_error(what, "has no nics list");
  if (nics->size() > kMaxGuestNics) return make_error(what, "lists more than " + std::to_string(kMaxGuestNics) + " NICs");
  // Guest interface name → MAC, from qemu-ga (optional).
  std::map<std::string, std::string> macs;
  if (interfaces.is_array() && interfaces.size() <= 4 * kMaxGuestNics)
    for (const auto& i : interfaces) {
      if (!i.is_object()) continue;
      const auto name = i.find("name");
      const auto mac = i.find("hardware-address");
      if (name != i.end() && name->is_string() && mac != i.end() && mac->is_string() &&
          valid_ifname(name->get<std::string>()) && plain_mac(mac->get<std::string>()))
        macs[name->get<std::string>()] = lower(mac->get<std::string>());
    }
  for (const auto& n : *nics) {
    if (!n.is_object()) return make_error(what, "a NIC entry is not an object");
    const auto name = n.find("name");
    if (name == n.end() || !name->is_string() || !valid_ifname(name->get<std::string>()))
      return make_error(what, "a NIC without a valid interface name");
    if (n.value("role", std::string()) != "tunable") continue;
    const auto cur = json_count(n, "queues_current"), max = json_count(n, "queues_max");
    if (!cur || !max || *cur > *max) return make_error(what, "NIC " + neutralise(name->get<std::string>()) + ": bad queue counts");
    GuestNic g;
    g.name = name->get<std::string>();
    g.queues_current = *cur;
    g.queues_max = *max;
    if (macs.count(g.name)) g.mac = macs[g.name];
    v.nics.push_back(std::move(g));
  }
  return v;
}

Result<GuestView> read_guest(qga::AgentChannel& channel, const std::string& guest_path, double timeout) {
  const auto deadline = qga::Deadline::in_seconds(timeout);
  const auto outcome = qga::run_in_guest(channel, guest_path, {"status", "--json"}, deadline);
  if (const auto* e = std::get_if<qga::ExecError>(&outcome)) return e->error;
  const auto& r = std::get<qga::ExecResult>(outcome);
  if (r.out_truncated) return make_error(channel.describe(), "guest-nettune's output was cut short");
  const auto status = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded()) return make_error(channel.describe(), "guest-nettune status printed no JSON");
  nlohmann::json interfaces;
  const auto ifs = channel.call("guest-network-get-interfaces", nullptr, deadline);
  if (const auto* j = std::get_if<nlohmann::json>(&ifs)) interfaces = *j;
  auto v = guest_view_from(status, interfaces);
  if (!v) return make_error(channel.describe(), v.error().text());
  return v;
}

namespace {

// The interfaces' bridges and the physical NICs behind them.
void resolve_uplinks(DomainContext& ctx, DomainSource* source, const SysRoot& root, Report& report) {
  for (const auto& i : ctx.spec.interfaces) {
    std::string bridge = i.bridge;
    if (i.type == "network" && bridge.empty() && source && !i.source.empty()) {
      auto b = source->network_bridge(i.source);
      if (b && valid_ifname(*b)) bridge = *b;
      else if (!b)
        report.notes.push_back("domain " + ctx.spec.name + ": network " + i.source + ": " + b.error().text());
    }
    std::vector<std::string> phys;
    if (!bridge.empty()) {
      ctx.bridges[i.index] = bridge;
      phys = physical_under(root, bridge);
    } else if (i.type == "direct" && valid_ifname(i.source)) {
      phys = physical_under(root, i.source);
    }
    for (const auto& p : phys) ctx.uplinks[i.index].push_back({p, nic_numa_node(root, p)});
  }
}

std::string cpu_vendor(const SysRoot& root) {
  auto info = root.read("proc/cpuinfo");
  if (!info) return "";
  const auto pos = info->find("vendor_id");
  if (pos == std::string::npos) return "";
  const auto colon = info->find(':', pos), eol = info->find('\n', pos);
  if (colon == std::string::npos || colon > eol) return "";
  return std::string(trim(std::string_view(*info).substr(colon + 1, eol - colon - 1)));
}

}  // namespace

int run_advise(const AdviseOptions& o, DomainSource* source, HostNicIo& nics, std::ostream& out, std::ostream& err) {
  const SysRoot root(o.root);
  Report report;
  report.host = o.host;
  const std::string uri = source ? source->uri() : o.connect;
  report.connect = uri;

  // The domains to look at.
  std::vector<std::string> names = o.domains;
  if (o.all) {
    if (!source) {
      err << "guest-nettune-host advise: --all needs libvirt\n";
      return advise_exit::kUsage;
    }
    auto all = source->domain_names();
    if (!all) {
      err << "guest-nettune-host advise: " << neutralise(all.error().text()) << "\n";
      return advise_exit::kNoLibvirt;
    }
    names = *all;
  }
  if (!names.empty() && !source) {
    err << "guest-nettune-host advise: --domain needs libvirt\n";
    return advise_exit::kUsage;
  }

  // The host's CPUs: libvirt's capabilities, or the snapshot's /sys when --root names one.
  std::optional<HostTopology> topo;
  if (!names.empty() && source && !root.is_snapshot()) {
    auto caps = source->capabilities();
    if (caps) {
      auto t = parse_capabilities(*caps);
      if (t) topo = std::move(*t);
      else report.notes.push_back(t.error().text() + "; reading /sys instead");
    } else {
      report.notes.push_back("libvirt's capabilities could not be read (" + caps.error().text() + "); reading /sys instead");
    }
  }
  if (!topo && (!names.empty() || o.host)) {
    auto t = read_topology(root);
    if (!t) {
      err << "guest-nettune-host advise: " << neutralise(t.error().text()) << "\n";
      return advise_exit::kSystem;
    }
    topo = std::move(*t);
  }

  const std::string vendor = cpu_vendor(root);
  const auto qemu_version = source ? source->hypervisor_version() : std::nullopt;
  CpuSet pinned_everywhere;
  bool missing_domain = false;
  for (const auto& name : names) {
    auto text = source->domain_xml(name);
    if (!text) {
      report.errors.push_back(text.error().text());
      if (!o.all && text.error().code == ENOENT) missing_domain = true;
      continue;
    }
    auto spec = parse_domain_xml(*text, "domain " + name);
    if (!spec) {
      report.errors.push_back(spec.error().text());
      continue;
    }
    DomainContext ctx;
    ctx.spec = std::move(*spec);
    if (ctx.spec.name.empty()) ctx.spec.name = name;
    ctx.cpu_vendor = vendor;
    ctx.qemu_version = qemu_version;
    ctx.connect_uri = uri;
    resolve_uplinks(ctx, source, root, report);
    if (o.guest) {
      auto ch = source->agent(name);
      if (!ch) {
        report.notes.push_back("domain " + name + ": the guest was not asked (" + ch.error().message + ")");
      } else if (*ch) {
        auto g = read_guest(**ch, o.guest_path, o.timeout);
        if (g) ctx.guest = std::move(*g);
        else report.notes.push_back("domain " + name + ": the guest's view is left out (" + g.error().text() + ")");
      }
    }
    for (const auto& [v, set] : ctx.spec.vcpupin) pinned_everywhere = pinned_everywhere | set;
    auto found = domain_findings(ctx, *topo);
    report.findings.insert(report.findings.end(), found.begin(), found.end());
    report.domains.push_back(ctx.spec.name);
  }

  if (o.host) {
    auto facts = probe_host(root, nics);
    if (!facts) {
      err << "guest-nettune-host advise: " << neutralise(facts.error().text()) << "\n";
      return advise_exit::kSystem;
    }
    // The libvirt view of the CPUs, when it was read, is the one the domains were checked against.
    if (topo) facts->topology = *topo;
    auto found = host_findings(*facts, pinned_everywhere);
    report.findings.insert(report.findings.end(), found.begin(), found.end());
  }

  if (o.json) out << report_json(report, uri).dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) << "\n";
  else render_report(out, report);

  if (missing_domain) return advise_exit::kUsage;
  if (!report.errors.empty()) {
    err << "guest-nettune-host advise: some domains could not be read (see above)\n";
    return o.all ? advise_exit::kSomeDomains : advise_exit::kSystem;
  }
  return report.has_recommended() ? advise_exit::kFindings : advise_exit::kNoFindings;
}

}  // namespace gn::advise
