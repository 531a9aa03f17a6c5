// The domain half of the guide: placement, emulator, memory, CPU model, NICs.
#include <algorithm>
#include <set>
#include <sstream>

#include "rules.h"
#include "text.h"

namespace gn::advise {

namespace {

// The lowest thread of each core among `cpus` of the topology, ordered by CPU number.
std::vector<unsigned> first_threads(const HostTopology& topo, const CpuSet& cpus) {
  std::vector<unsigned> out;
  for (unsigned c : cpus.cpus()) {
    const auto* p = topo.cpu(c);
    if (p && (p->siblings & cpus).cpus().front() == c) out.push_back(c);
  }
  return out;
}

// The CPUs of the cores that `set` touches (all their threads).
CpuSet whole_cores(const HostTopology& topo, const CpuSet& set) {
  CpuSet out;
  for (unsigned c : set.cpus())
    if (const auto* p = topo.cpu(c)) out = out | p->siblings;
  return out;
}

std::string list(const CpuSet& s) { return s.empty() ? "none" : format_cpulist(s); }

// "virsh -c URI VERB DOMAIN", every word quoted for the shell where it needs it.
std::string virsh(const DomainContext& d, const std::string& verb) {
  return "virsh -c " + shell_word(d.connect_uri) + " " + verb + " " + shell_word(d.spec.name);
}
std::string virsh_edit(const DomainContext& d) { return virsh(d, "edit"); }

Finding make(const DomainContext& d, std::string id, Severity sev, std::string subject, std::string seen,
             std::string why) {
  Finding f;
  f.id = std::move(id);
  f.scope = "domain " + d.spec.name;
  f.subject = std::move(subject);
  f.severity = sev;
  f.seen = std::move(seen);
  f.why = std::move(why);
  return f;
}

Change xml(std::string text) { return Change{ChangeKind::DomainXml, std::move(text)}; }

// The NUMA node the domain should live on: the physical NIC's (of the first interface that has
// one with a known node), else the node its vCPUs are pinned to, else the lowest node.
struct NodeChoice {
  unsigned node = 0;
  std::string nic;  // the NIC that decided it, "" if none
};
NodeChoice choose_node(const DomainContext& d, const HostTopology& topo, const CpuSet& pinned) {
  for (const auto& i : d.spec.interfaces) {
    const auto it = d.uplinks.find(i.index);
    if (it == d.uplinks.end()) continue;
    for (const auto& u : it->second)
      if (u.node && topo.nodes.count(static_cast<unsigned>(*u.node))) return {static_cast<unsigned>(*u.node), u.name};
  }
  const CpuSet nodes = topo.nodes_of(pinned);
  if (nodes.count() == 1) return {nodes.cpus().front(), ""};
  return {topo.nodes.empty() ? 0u : topo.nodes.begin()->first, ""};
}

}  // namespace

CpuSet propose_emulator(const HostTopology& topo, const CpuSet& vcpu_set, unsigned node) {
  const auto it = topo.nodes.find(node);
  if (it == topo.nodes.end()) return {};
  const CpuSet node_cpus = it->second;
  // The node's cores without a vCPU, less the first one (the host's).
  auto unused = first_threads(topo, node_cpus - whole_cores(topo, vcpu_set));
  if (unused.size() > 1) {
    CpuSet out;
    for (size_t i = 1; i < unused.size(); ++i) out.add(unused[i]);
    return out;
  }
  // The vCPUs fill the node: another node's cores, less its first (throughput over latency).
  for (const auto& [n, cpus] : topo.nodes) {
    if (n == node) continue;
    const auto cores = first_threads(topo, cpus);
    if (cores.size() < 2) continue;
    CpuSet out;
    for (size_t i = 1; i < cores.size(); ++i) out.add(cores[i]);
    return out;
  }
  // One node, no core to spare: the host's core (its sibling threads, with SMT).
  if (!unused.empty()) {
    const auto* p = topo.cpu(unused.front());
    return p ? p->siblings : CpuSet::of({unused.front()});
  }
  return {};
}

Placement propose_placement(const HostTopology& topo, unsigned vcpus, unsigned node) {
  Placement p;
  p.node = node;
  const auto it = topo.nodes.find(node);
  if (it == topo.nodes.end()) return p;
  const auto cores = first_threads(topo, it->second);
  // The first core stays with the host.
  const size_t usable = cores.size() > 1 ? cores.size() - 1 : 0;
  p.fits = static_cast<unsigned>(std::min<size_t>(usable, vcpus));
  for (unsigned i = 0; i < p.fits; ++i) p.vcpu_cpus.push_back(cores[i + 1]);
  if (p.fits < vcpus) {
    p.note = "node " + std::to_string(node) + " has " + std::to_string(cores.size()) + " cores; with one left to the host, " +
             std::to_string(usable) + " can take a vCPU each, not " + std::to_string(vcpus);
  }
  CpuSet set;
  for (unsigned c : p.vcpu_cpus) set.add(c);
  p.emulator = propose_emulator(topo, set, node);
  return p;
}

std::string cputune_fragment(const std::vector<unsigned>& vcpu_cpus, const CpuSet& emulator) {
  std::ostringstream s;
  s << "<cputune>\n";
  for (size_t i = 0; i < vcpu_cpus.size(); ++i)
    s << "  <vcpupin vcpu='" << i << "' cpuset='" << vcpu_cpus[i] << "'/>\n";
  if (!emulator.empty()) s << "  <emulatorpin cpuset='" << format_cpulist(emulator) << "'/>\n";
  s << "</cputune>";
  return s.str();
}

std::vector<Finding> domain_findings(const DomainContext& d, const HostTopology& topo) {
  std::vector<Finding> out;
  const DomainSpec& s = d.spec;
  const bool multi_node = topo.nodes.size() > 1;

  // --- vCPU placement -------------------------------------------------------------------------
  CpuSet pinned;
  std::vector<std::string> problems;  // what is wrong with the pins as they are
  std::vector<unsigned> unpinned, wide;
  for (unsigned v = 0; v < s.vcpus; ++v) {
    const auto it = s.vcpupin.find(v);
    if (it == s.vcpupin.end()) unpinned.push_back(v);
    else if (it->second.count() > 1) wide.push_back(v);
    else pinned.add(it->second.cpus().front());
  }
  const NodeChoice choice = choose_node(d, topo, pinned);
  const Placement proposal = propose_placement(topo, s.vcpus, choice.node);
  const std::string proposal_xml = cputune_fragment(proposal.vcpu_cpus, proposal.emulator);
  const auto add_placement = [&](Finding f) {
    f.changes.push_back(xml(proposal_xml));
    if (proposal.fits < s.vcpus)
      f.changes.push_back(xml("<vcpu placement='static'>" + std::to_string(proposal.fits) + "</vcpu>"));
    f.changes.push_back(Change{ChangeKind::Virsh, virsh_edit(d)});
    out.push_back(std::move(f));
  };
  const std::string why_node_text = choice.nic.empty() ? "" : " (the node of " + choice.nic + ")";
  bool placement_bad = false;
  if (!unpinned.empty() || !wide.empty()) {
    placement_bad = true;
    std::string seen;
    if (s.vcpupin.empty()) {
      seen = "no <vcpupin>: the " + std::to_string(s.vcpus) + " vCPUs float";
      if (s.vcpu_cpuset) seen += " over " + list(*s.vcpu_cpuset) + " (<vcpu cpuset> is a pool, not a pin)";
      if (s.vcpu_placement == "auto") seen += " where numad puts them";
    } else {
      if (!unpinned.empty()) seen += std::to_string(unpinned.size()) + " of " + std::to_string(s.vcpus) + " vCPUs unpinned";
      if (!wide.empty()) {
        if (!seen.empty()) seen += "; ";
        seen += std::to_string(wide.size()) + " pinned to a set of pCPUs rather than one (vCPU " +
                std::to_string(wide.front()) + " → " + list(s.vcpupin.at(wide.front())) + ")";
      }
    }
    add_placement(make(d, "vcpu-pinning", Severity::Recommended, "", seen,
                       "a floating vCPU shares its pCPU and cache with host work and migrates, so its queue's packets wait"));
  } else {
    // Two vCPUs on one pCPU, or on two threads of one core.
    std::map<std::pair<unsigned, unsigned>, std::vector<unsigned>> by_core;
    std::map<unsigned, std::vector<unsigned>> by_cpu;
    for (const auto& [v, set] : s.vcpupin) {
      const unsigned c = set.cpus().front();
      by_cpu[c].push_back(v);
      if (const auto* p = topo.cpu(c)) by_core[{p->socket, p->core}].push_back(v);
    }
    std::string shared, siblings;
    for (const auto& [cpu, vs] : by_cpu)
      if (vs.size() > 1 && shared.empty())
        shared = "vCPUs " + std::to_string(vs[0]) + " and " + std::to_string(vs[1]) + " share pCPU " + std::to_string(cpu);
    for (const auto& [core, vs] : by_core)
      if (vs.size() > 1 && siblings.empty() && s.vcpupin.at(vs[0]) != s.vcpupin.at(vs[1]))
        siblings = "vCPUs " + std::to_string(vs[0]) + " and " + std::to_string(vs[1]) + " are on pCPUs " +
                   list(s.vcpupin.at(vs[0])) + " and " + list(s.vcpupin.at(vs[1])) + ", two threads of one core";
    const auto unknown = pinned - topo.all_cpus();
    if (!unknown.empty()) {
      placement_bad = true;
      add_placement(make(d, "vcpu-pinning", Severity::Recommended, "",
                         "vCPUs pinned to pCPUs " + list(unknown) + ", which this host does not have",
                         "the domain will not start, or runs where the pin cannot hold"));
    }
    if (!shared.empty()) {
      placement_bad = true;
      add_placement(make(d, "vcpu-pinning", Severity::Recommended, "", shared,
                         "two vCPUs on one pCPU take turns: each queue they serve gets half a CPU"));
    }
    if (!siblings.empty()) {
      placement_bad = true;
      add_placement(make(d, "vcpu-smt-siblings", Severity::Recommended, "", siblings,
                         "SMT siblings share one core's execution units and caches: two queues' worth of packets on one core"));
    }
    const CpuSet nodes = topo.nodes_of(pinned);
    if (multi_node && nodes.count() > 1) {
      placement_bad = true;
      add_placement(make(d, "vcpu-numa-spread", Severity::Recommended, "",
                         "vCPUs on pCPUs " + list(pinned) + " span NUMA nodes " + list(nodes),
                         "packets and guest memory cross the interconnect between nodes"));
    } else if (multi_node && nodes.count() == 1 && !choice.nic.empty() && nodes.cpus().front() != choice.node) {
      placement_bad = true;
      add_placement(make(d, "vcpu-nic-node", Severity::Recommended, "",
                         "vCPUs on node " + list(nodes) + ", the physical NIC " + choice.nic + " on node " +
                             std::to_string(choice.node),
                         "every packet's DMA and interrupt crosses to the other node"));
    }
    if (nodes.count() == 1) {
      const unsigned n = nodes.cpus().front();
      const CpuSet node_cpus = topo.nodes.count(n) ? topo.nodes.at(n) : CpuSet();
      if (!node_cpus.empty() && (node_cpus - whole_cores(topo, pinned)).empty()) {
        placement_bad = true;
        add_placement(make(d, "vcpu-no-free-pcpu", Severity::Recommended, "",
                           "the vCPUs take every core of node " + std::to_string(n) + " (" + list(node_cpus) + ")",
                           "the host's own interrupts, vhost and softirq work then preempt vCPUs"));
      }
    }
  }
  if (proposal.fits < s.vcpus) {
    Finding f = make(d, "vcpu-sizing", Severity::Recommended, "",
                     std::to_string(s.vcpus) + " vCPUs; " + proposal.note,
                     "vCPUs beyond one per core of a node share cores or cross nodes; fewer, right-sized vCPUs carry more");
    f.changes.push_back(xml("<vcpu placement='static'>" + std::to_string(proposal.fits) + "</vcpu>"));
    f.changes.push_back(xml(proposal_xml));
    out.push_back(std::move(f));
  }

  // --- emulator (and with it the vhost threads) -----------------------------------------------
  const CpuSet vcpu_set = placement_bad ? CpuSet() : pinned;
  if (!placement_bad) {
    const CpuSet emu = propose_emulator(topo, vcpu_set, topo.nodes_of(vcpu_set).empty() ? choice.node
                                                                                        : topo.nodes_of(vcpu_set).cpus().front());
    std::vector<unsigned> pins;
    for (unsigned v = 0; v < s.vcpus; ++v) pins.push_back(s.vcpupin.at(v).cpus().front());
    const std::string fragment = cputune_fragment(pins, emu);
    if (!s.emulatorpin) {
      Finding f = make(d, "emulatorpin", Severity::Recommended, "", "no <emulatorpin>: the emulator and vhost threads float",
                       "vhost threads move packets between tap and guest; floating, they land on vCPUs' pCPUs and preempt them");
      f.changes = {xml(fragment), Change{ChangeKind::Virsh, virsh(d, "emulatorpin") + " " + format_cpulist(emu) +
                                                               " --config --live"}};
      if (!emu.empty()) out.push_back(std::move(f));
    } else if (!(*s.emulatorpin & whole_cores(topo, pinned)).empty()) {
      Finding f = make(d, "emulatorpin", Severity::Recommended, "",
                       "<emulatorpin cpuset='" + list(*s.emulatorpin) + "'> shares cores with the vCPUs (" + list(pinned) + ")",
                       "vhost threads preempt the vCPUs whose packets they carry");
      f.changes = {xml(fragment), Change{ChangeKind::Virsh, virsh(d, "emulatorpin") + " " + format_cpulist(emu) +
                                                               " --config --live"}};
      if (!emu.empty()) out.push_back(std::move(f));
    }
  } else if (!s.emulatorpin) {
    Finding f = make(d, "emulatorpin", Severity::Recommended, "", "no <emulatorpin>: the emulator and vhost threads float",
                     "vhost threads move packets between tap and guest; floating, they land on vCPUs' pCPUs and preempt them");
    f.changes = {xml(proposal_xml)};
    if (!proposal.emulator.empty()) out.push_back(std::move(f));
  }

  // --- memory ---------------------------------------------------------------------------------
  if (multi_node) {
    const unsigned node = placement_bad ? proposal.node : topo.nodes_of(pinned).cpus().front();
    const std::string fragment = "<numatune>\n  <memory mode='strict' nodeset='" + std::to_string(node) + "'/>\n</numatune>";
    const auto numa_finding = [&](std::string seen) {
      Finding f = make(d, "numatune", Severity::Recommended, "", std::move(seen),
                       "guest memory on another node than its vCPUs puts every packet buffer across the interconnect");
      f.changes = {xml(fragment), Change{ChangeKind::Virsh, virsh_edit(d)}};
      out.push_back(std::move(f));
    };
    const CpuSet want = CpuSet::of({node});
    if (!s.numatune || (!s.numa_nodeset && s.memnodes.empty())) {
      numa_finding(s.numa_placement == "auto" ? "<numatune> placement='auto': numad chooses the memory node"
                                              : "no <numatune> memory node: memory comes from wherever the host allocates");
    } else if (s.numa_nodeset && (s.numa_mode != "strict" || *s.numa_nodeset != want)) {
      numa_finding("<numatune><memory mode='" + s.numa_mode + "' nodeset='" + list(*s.numa_nodeset) + "'>, vCPUs on node " +
                   std::to_string(node));
    } else if (!s.numa_nodeset) {
      for (const auto& m : s.memnodes)
        if (m.mode != "strict" || m.nodeset != want) {
          numa_finding("<memnode cellid='" + std::to_string(m.cellid) + "' mode='" + m.mode + "' nodeset='" + list(m.nodeset) +
                       "'>, vCPUs on node " + std::to_string(node));
          break;
        }
    }
  }

  // --- CPU model ------------------------------------------------------------------------------
  const bool old_qemu_amd = d.cpu_vendor == "AuthenticAMD" && d.qemu_version && *d.qemu_version < 3001000;
  if (old_qemu_amd) {
    if (s.cpu_mode != "host-model" && s.cpu_mode != "host-passthrough") {
      Finding f = make(d, "cpu-mode", Severity::Recommended, "", "<cpu mode='" + (s.cpu_mode.empty() ? "custom" : s.cpu_mode) + "'>",
                       "a generic CPU model hides features the guest's network stack uses (on AMD with qemu < 3.1, host-model)");
      f.changes = {xml("<cpu mode='host-model'/>")};
      out.push_back(std::move(f));
    }
  } else if (s.cpu_mode != "host-passthrough") {
    Finding f = make(d, "cpu-mode", Severity::Recommended, "",
                     s.cpu_mode.empty() ? "no <cpu> element: qemu's default generic model" : "<cpu mode='" + s.cpu_mode + "'>",
                     "a generic or modelled CPU hides instructions and cache topology the guest's network stack uses");
    f.changes = {xml("<cpu mode='host-passthrough' check='none'>\n  <cache mode='passthrough'/>\n</cpu>")};
    out.push_back(std::move(f));
  } else if (!s.cpu_cache_passthrough) {
    Finding f = make(d, "cpu-cache", Severity::Recommended, "", "host-passthrough without <cache mode='passthrough'/>",
                     "the guest sees no real cache topology, so its scheduler cannot keep a flow's work in one cache");
    f.changes = {xml("<cpu mode='host-passthrough' check='none'>\n  <cache mode='passthrough'/>\n</cpu>")};
    out.push_back(std::move(f));
  }

  // --- memory backing, Windows ----------------------------------------------------------------
  if (!s.hugepages) {
    Finding f = make(d, "hugepages", Severity::Optional, "", "no <memoryBacking><hugepages/>",
                     "helps memory-heavy workloads through fewer TLB misses, not the network path itself");
    f.changes = {xml("<memoryBacking>\n  <hugepages/>\n</memoryBacking>")};
    out.push_back(std::move(f));
  }
  if (s.windows() && !s.hyperv) {
    Finding f = make(d, "hyperv", Severity::Recommended, "", "a Windows guest (" + s.os_id + ") without <features><hyperv>",
                     "without enlightenments Windows uses emulated timers and interrupt controller paths that exit to the host");
    f.changes = {xml("<features>\n  <hyperv mode='custom'>\n    <relaxed state='on'/>\n    <vapic state='on'/>\n"
                     "    <spinlocks state='on' retries='8191'/>\n    <vpindex state='on'/>\n    <synic state='on'/>\n"
                     "    <stimer state='on'/>\n  </hyperv>\n</features>")};
    out.push_back(std::move(f));
  }

  // --- NICs -----------------------------------------------------------------------------------
  const unsigned vcpus = s.vcpus;
  const unsigned want_queues = vcpus;
  const unsigned min_queues = std::min(4u, vcpus);
  for (const auto& i : s.interfaces) {
    if (i.type == "hostdev" || i.type == "vhostuser" || i.type == "vdpa") continue;  // not a vhost-net path
    const std::string subject = i.label() + (i.source.empty() ? "" : " (" + i.type + " " + i.source + ")");
    const std::string driver = "<driver name='vhost' queues='" + std::to_string(want_queues) +
                               "' rx_queue_size='256' tx_queue_size='256'/>";
    if (i.model != "virtio") {
      Finding f = make(d, "nic-model", Severity::Recommended, subject,
                       i.model.empty() ? "no <model>: an emulated NIC" : "<model type='" + i.model + "'>: an emulated NIC",
                       "an emulated NIC traps to qemu on every register access: a few tens of kpps at best");
      f.changes = {xml("<model type='virtio'/>\n" + driver)};
      out.push_back(std::move(f));
      continue;
    }
    if (i.driver_name == "qemu") {
      Finding f = make(d, "nic-backend", Severity::Recommended, subject, "<driver name='qemu'>: the userspace virtio backend",
                       "every packet goes through qemu's main loop instead of a vhost kernel thread");
      f.changes = {xml(driver)};
      out.push_back(std::move(f));
    }
    const unsigned q = i.queues.value_or(1);
    if (vcpus > 1 && (q < min_queues || q > vcpus)) {
      Finding f = make(d, "nic-queues", Severity::Recommended, subject,
                       (i.queues ? "queues='" + std::to_string(q) + "'" : std::string("no queues= (one queue)")) + " for " +
                           std::to_string(vcpus) + " vCPUs",
                       q < min_queues ? "one queue pair is served by one vCPU and one vhost thread: a few hundred kpps"
                                      : "more queues than vCPUs: queues share vCPUs and interrupts with nothing gained");
      f.changes = {xml(driver)};
      out.push_back(std::move(f));
    }
    for (const auto& [name, size] : {std::pair<const char*, std::optional<unsigned>>{"rx_queue_size", i.rx_queue_size},
                                     {"tx_queue_size", i.tx_queue_size}}) {
      if (!size || *size == 256) continue;
      const bool tx_capped = std::string(name) == "tx_queue_size" && *size > 256;
      Finding f = make(d, "nic-queue-size", Severity::Optional, subject, std::string(name) + "='" + std::to_string(*size) + "'",
                       tx_capped ? "qemu caps the transmit ring at 256 for vhost-net: the setting has no effect"
                                 : "the guide's rings are 256: larger rings hold more packets in flight than the caches do");
      f.changes = {xml(driver)};
      out.push_back(std::move(f));
    }
    const bool tap = i.type == "bridge" || i.type == "network" || i.type == "ethernet";
    if (tap && !i.coalesce_rx_frames) {
      Finding f = make(d, "nic-coalesce", Severity::Optional, subject, "no <coalesce>",
                       "without rx coalescing each received frame can raise its own interrupt in the guest");
      f.changes = {xml("<coalesce>\n  <rx>\n    <frames max='32'/>\n  </rx>\n</coalesce>")};
      out.push_back(std::move(f));
    }
  }

  // --- the guest's side, when its agent answered ---------------------------------------------
  if (d.guest) {
    for (const auto& g : d.guest->nics) {
      const DomainInterface* match = nullptr;
      for (const auto& i : s.interfaces)
        if (!g.mac.empty() && i.mac == g.mac) match = &i;
      const std::string subject = (match ? match->label() + ", " : std::string()) + "guest " + g.name;
      if (match && match->queues && g.queues_max < *match->queues) {
        Finding f = make(d, "nic-restart-pending", Severity::Recommended, subject,
                         "the definition has queues='" + std::to_string(*match->queues) + "', the guest sees " +
                             std::to_string(g.queues_max),
                         "the running domain still has the old queue count: the definition takes effect at the next start");
        f.changes = {Change{ChangeKind::Virsh, virsh(d, "shutdown") + "\n# once `" + virsh(d, "domstate") +
                                                   "` says shut off:\n" + virsh(d, "start")}};
        out.push_back(std::move(f));
      }
      if (g.queues_current < g.queues_max) {
        Finding f = make(d, "nic-guest-channels", Severity::Recommended, subject,
                         "the guest uses " + std::to_string(g.queues_current) + " of " + std::to_string(g.queues_max) + " queues",
                         "queues the guest does not enable carry nothing: their vCPUs and vhost threads sit idle");
        f.changes = {Change{ChangeKind::Guest, "guest-nettune-host --domain " + shell_word(s.name) + " --connect " +
                                                        shell_word(d.connect_uri) + " apply"}};
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

}  // namespace gn::advise
