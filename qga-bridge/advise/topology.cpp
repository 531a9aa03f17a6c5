#include "topology.h"

#include <set>

#include "domain.h"
#include "xml.h"

namespace gn::advise {

const HostCpu* HostTopology::cpu(unsigned id) const {
  const auto it = cpus.find(id);
  return it == cpus.end() ? nullptr : &it->second;
}

CpuSet HostTopology::nodes_of(const CpuSet& set) const {
  CpuSet out;
  for (unsigned c : set.cpus())
    if (const auto* p = cpu(c)) out.add(p->node);
  return out;
}

unsigned HostTopology::cores_in(const CpuSet& set) const {
  std::set<std::pair<unsigned, unsigned>> cores;
  for (unsigned c : set.cpus())
    if (const auto* p = cpu(c)) cores.insert({p->socket, p->core});
  return static_cast<unsigned>(cores.size());
}

CpuSet HostTopology::all_cpus() const {
  CpuSet out;
  for (const auto& [id, c] : cpus) out.add(id);
  return out;
}

bool HostTopology::smt() const {
  for (const auto& [id, c] : cpus)
    if (c.siblings.count() > 1) return true;
  return false;
}

unsigned HostTopology::sockets() const {
  std::set<unsigned> s;
  for (const auto& [id, c] : cpus) s.insert(c.socket);
  return static_cast<unsigned>(s.size());
}

Result<HostTopology> parse_capabilities(std::string_view text) {
  const std::string what = "libvirt capabilities";
  auto tree = parse_xml(text, what);
  if (!tree) return tree.error();
  const auto cells = tree->get_child_optional("capabilities.host.topology.cells");
  if (!cells) return make_error(what, "no <host><topology><cells>", "this libvirt does not report the host's NUMA cells");
  HostTopology t;
  for (const auto& [key, cell] : *cells) {
    if (key != "cell") continue;
    const auto node = parse_number(attr(cell, "id").value_or(""), kMaxCpu);
    if (!node) return make_error(what, "a <cell> without a numeric id");
    CpuSet& node_cpus = t.nodes[*node];
    const auto cpus = cell.get_child_optional("cpus");
    if (!cpus) continue;
    for (const auto& [k2, c] : *cpus) {
      if (k2 != "cpu") continue;
      const auto id = parse_number(attr(c, "id").value_or(""), kMaxCpu);
      if (!id) return make_error(what, "a <cpu> without a numeric id in cell " + std::to_string(*node));
      HostCpu hc;
      hc.id = *id;
      hc.node = *node;
      hc.socket = parse_number(attr(c, "socket_id").value_or(""), kMaxCpu).value_or(*node);
      hc.core = parse_number(attr(c, "core_id").value_or(""), kMaxCpu).value_or(*id);
      if (const auto sib = attr(c, "siblings")) {
        auto s = parse_libvirt_cpuset(*sib);
        if (!s) return make_error(what, "cpu " + std::to_string(*id) + " siblings: " + s.error().text());
        hc.siblings = *s;
      }
      hc.siblings.add(*id);
      node_cpus.add(*id);
      t.cpus[*id] = hc;
    }
  }
  if (t.cpus.empty()) return make_error(what, "no CPUs in <topology><cells>");
  return t;
}

Result<HostTopology> read_topology(const SysRoot& root) {
  HostTopology t;
  auto online = root.read(paths::kCpuDir + "/online");
  if (!online) return online.error();
  auto all = parse_cpulist(trim(*online));
  if (!all) return make_error(root.display(paths::kCpuDir + "/online"), all.error().message);
  // Nodes: node*/cpulist; none → one node 0 with every CPU.
  std::map<unsigned, unsigned> node_of;
  if (auto entries = root.list(paths::kNodeDir)) {
    for (const auto& e : *entries) {
      if (e.name.rfind("node", 0) != 0) continue;
      const auto n = parse_number(e.name.substr(4), kMaxCpu);
      if (!n) continue;
      const std::string rel = paths::kNodeDir + "/" + e.name + "/cpulist";
      auto text = root.read(rel);
      if (!text) return text.error();
      auto set = parse_cpulist(trim(*text));
      if (!set) return make_error(root.display(rel), set.error().message);
      t.nodes[*n] = *set;
      for (unsigned c : set->cpus()) node_of[c] = *n;
    }
  }
  if (t.nodes.empty()) t.nodes[0] = *all;
  for (unsigned c : all->cpus()) {
    HostCpu hc;
    hc.id = c;
    hc.node = node_of.count(c) ? node_of[c] : 0;
    const std::string topo = paths::kCpuDir + "/cpu" + std::to_string(c) + "/topology/";
    const auto number = [&](const char* file, unsigned fallback) {
      auto text = root.read(topo + file);
      return text ? parse_number(*text, kMaxCpu).value_or(fallback) : fallback;
    };
    hc.socket = number("physical_package_id", 0);
    hc.core = number("core_id", c);
    if (auto sib = root.read(topo + "thread_siblings_list")) {
      if (auto s = parse_cpulist(trim(*sib))) hc.siblings = *s;
    }
    hc.siblings.add(c);
    if (!node_of.count(c)) t.nodes[0].add(c);
    t.cpus[c] = hc;
  }
  return t;
}

}  // namespace gn::advise
