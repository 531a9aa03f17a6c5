#include "host_facts.h"

#include <set>
#include <sstream>

#include "domain.h"
#include "kernel_paths.h"
#include "xml.h"

namespace gn::advise {

namespace {
const std::string kBridgeSysctl = "proc/sys/net/bridge";
const std::string kModules = "sys/module";
const std::string kCmdline = "proc/cmdline";
const std::string kCpuinfo = "proc/cpuinfo";
const std::string kVulnerabilities = paths::kCpuDir + "/vulnerabilities";

std::optional<std::string> read_trimmed(const SysRoot& root, const std::string& rel) {
  auto t = root.read(rel);
  if (!t) return std::nullopt;
  return std::string(trim(*t));
}

std::optional<long> read_long(const SysRoot& root, const std::string& rel) {
  const auto t = read_trimmed(root, rel);
  if (!t) return std::nullopt;
  const auto n = parse_number(*t, 2000000000u);
  if (!n) return std::nullopt;
  return static_cast<long>(*n);
}

bool is_dir(const SysRoot& root, const std::string& rel) { return root.exists(rel); }

void walk_lower(const SysRoot& root, const std::string& dev, int depth, std::set<std::string>& seen,
                std::vector<std::string>& out) {
  if (depth > 6 || !valid_ifname(dev) || !seen.insert(dev).second) return;
  const std::string base = paths::kNetClass + "/" + dev;
  if (root.exists(base + "/device")) {
    out.push_back(dev);
    return;
  }
  std::vector<std::string> lower;
  if (auto ports = root.list(base + "/brif"))
    for (const auto& p : *ports) lower.push_back(p.name);
  if (auto entries = root.list(base))
    for (const auto& e : *entries)
      if (e.name.rfind("lower_", 0) == 0) lower.push_back(e.name.substr(6));
  for (const auto& l : lower) walk_lower(root, l, depth + 1, seen, out);
}
}  // namespace

const HostNicFacts* HostFacts::nic(const std::string& name) const {
  for (const auto& n : nics)
    if (n.name == name) return &n;
  return nullptr;
}
const BridgeFacts* HostFacts::bridge(const std::string& name) const {
  for (const auto& b : bridges)
    if (b.name == name) return &b;
  return nullptr;
}

std::optional<int> nic_numa_node(const SysRoot& root, const std::string& nic) {
  if (!valid_ifname(nic)) return std::nullopt;
  const auto t = read_trimmed(root, paths::kNetClass + "/" + nic + "/device/numa_node");
  if (!t) return std::nullopt;
  const auto n = parse_number(*t, kMaxCpu);  // "-1" (no NUMA information) does not parse
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

std::vector<std::string> physical_under(const SysRoot& root, const std::string& dev) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  walk_lower(root, dev, 0, seen, out);
  return out;
}

Result<HostFacts> probe_host(const SysRoot& root, HostNicIo& io) {
  HostFacts f;
  auto topo = read_topology(root);
  if (!topo) return topo.error();
  f.topology = std::move(*topo);
  f.kernel_release = read_trimmed(root, paths::kOsRelease).value_or("");
  f.cmdline = read_trimmed(root, kCmdline).value_or("");
  if (auto info = root.read(kCpuinfo)) {
    std::istringstream in(*info);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("vendor_id", 0) == 0) {
        const auto colon = line.find(':');
        if (colon != std::string::npos) f.cpu_vendor = std::string(trim(line.substr(colon + 1)));
        break;
      }
  }
  // Interfaces: bridges with their guest ports and physical NICs; every physical NIC.
  std::set<std::string> physical;
  if (auto devs = root.list(paths::kNetClass)) {
    for (const auto& d : *devs) {
      if (!valid_ifname(d.name)) continue;
      const std::string base = paths::kNetClass + "/" + d.name;
      if (root.exists(base + "/device")) physical.insert(d.name);
      if (!is_dir(root, base + "/bridge")) continue;
      BridgeFacts b;
      b.name = d.name;
      if (auto ports = root.list(base + "/brif"))
        for (const auto& p : *ports)
          if (valid_ifname(p.name) && root.exists(paths::kNetClass + "/" + p.name + "/tun_flags"))
            b.guest_ports.push_back(p.name);
      b.physical = physical_under(root, d.name);
      f.bridges.push_back(std::move(b));
    }
  }
  for (const auto& name : physical) {
    HostNicFacts n;
    n.name = name;
    n.numa_node = nic_numa_node(root, name);
    n.rings = io.rings(name);
    n.udp4_hash = io.udp4_hash(name);
    f.nics.push_back(std::move(n));
  }
  for (const char* k : kBridgeNf) f.bridge_nf[k] = read_long(root, kBridgeSysctl + "/" + k);
  for (const auto& b : kNapiBudgets) f.net_core[b.name] = read_long(root, paths::kNetCoreSysctl + "/" + b.name);
  // softnet_stat: one line per CPU, hex columns; the 2nd is drops, the 3rd time squeezes.
  if (auto text = root.read(paths::kSoftnetStat)) {
    std::istringstream in(*text);
    std::string line;
    f.softnet_read = true;
    while (std::getline(in, line)) {
      std::istringstream cols(line);
      std::string processed, dropped, squeezed;
      if (!(cols >> processed >> dropped >> squeezed)) continue;
      try {
        f.softnet_dropped += std::stoull(dropped, nullptr, 16);
        f.softnet_squeezed += std::stoull(squeezed, nullptr, 16);
      } catch (const std::exception&) {
        f.softnet_read = false;
      }
    }
  }
  f.vhost_net_loaded = root.exists(kModules + "/vhost_net");
  f.zcopytx = read_trimmed(root, kModules + "/vhost_net/parameters/experimental_zcopytx");
  f.kvm_amd = root.exists(kModules + "/kvm_amd");
  f.kvm_intel = root.exists(kModules + "/kvm_intel");
  f.avic = read_trimmed(root, kModules + "/kvm_amd/parameters/avic");
  f.ept = read_trimmed(root, kModules + "/kvm_intel/parameters/ept");
  f.smt_active = read_trimmed(root, paths::kCpuDir + "/smt/active");
  f.smt_control = read_trimmed(root, paths::kCpuDir + "/smt/control");
  if (auto entries = root.list(paths::kProc))
    for (const auto& e : *entries) {
      if (e.type != DirEntry::Type::Dir || !parse_number(e.name, 1u << 30)) continue;
      if (read_trimmed(root, paths::kProc + "/" + e.name + "/comm").value_or("") == "irqbalance") {
        f.irqbalance = true;
        break;
      }
    }
  for (const auto& [id, cpu] : f.topology.cpus)
    if (auto g = read_trimmed(root, paths::kCpuDir + "/cpu" + std::to_string(id) + "/cpufreq/scaling_governor"))
      ++f.governors[*g];
  f.max_cstate = read_trimmed(root, kModules + "/intel_idle/parameters/max_cstate");
  if (auto vs = root.list(kVulnerabilities))
    for (const auto& v : *vs)
      if (auto t = read_trimmed(root, kVulnerabilities + "/" + v.name)) f.vulnerabilities[v.name] = *t;
  return f;
}

}  // namespace gn::advise
