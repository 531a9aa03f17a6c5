// The hypervisor half of the guide: bridge netfilter, NAPI budgets, NIC rings and hashing,
// vhost, KVM module options, SMT and NUMA, irqbalance, frequency, kernel, mitigations.
#include <algorithm>
#include <sstream>

#include <cstdlib>
#include "rules.h"

namespace gn::advise {

namespace {
Finding make(std::string id, Severity sev, std::string subject, std::string seen, std::string why,
             std::vector<Change> changes) {
  Finding f;
  f.id = std::move(id);
  f.scope = "host";
  f.subject = std::move(subject);
  f.severity = sev;
  f.seen = std::move(seen);
  f.why = std::move(why);
  f.changes = std::move(changes);
  return f;
}

bool module_on(const std::optional<std::string>& v) { return v && (*v == "1" || *v == "Y" || *v == "y"); }

// "5.4.0-150-generic" → {5, 4}; {0, 0} when unreadable.
std::pair<unsigned, unsigned> major_minor(const std::string& release) {
  unsigned a = 0, b = 0;
  char dot = 0;
  std::istringstream in(release);
  if (!(in >> a >> dot >> b) || dot != '.') return {0, 0};
  return {a, b};
}
}  // namespace

std::vector<Finding> host_findings(const HostFacts& h, const CpuSet& pinned_vcpus) {
  std::vector<Finding> out;

  // Bridge netfilter, when bridges carry guests' traffic.
  std::vector<std::string> guest_bridges;
  for (const auto& b : h.bridges)
    if (!b.guest_ports.empty()) guest_bridges.push_back(b.name);
  if (!guest_bridges.empty()) {
    std::string on, lines;
    for (const char* k : kBridgeNf) {
      const auto it = h.bridge_nf.find(k);
      if (it != h.bridge_nf.end() && it->second && *it->second != 0) {
        on += (on.empty() ? "" : ", ") + std::string(k) + "=" + std::to_string(*it->second);
        lines += (lines.empty() ? "" : "\n") + std::string("net.bridge.") + k + " = 0";
      }
    }
    if (!on.empty()) {
      std::string bridges;
      for (const auto& b : guest_bridges) bridges += (bridges.empty() ? "" : ", ") + b;
      out.push_back(make("bridge-nf-call", Severity::Recommended, "bridges " + bridges,
                         on + " while guests' traffic crosses " + bridges,
                         "every bridged frame is handed to iptables/ip6tables/arptables; only where no firewall "
                         "rules on bridged guest traffic are needed (libvirt nwfilter, security groups)",
                         {Change{ChangeKind::Sysctl, lines}}));
    }
  }

  // NAPI budgets, with softnet_stat as the evidence for them.
  {
    std::string low, lines;
    for (const auto& b : kNapiBudgets) {
      const auto it = h.net_core.find(b.name);
      if (it == h.net_core.end() || !it->second || *it->second >= b.value) continue;
      low += (low.empty() ? "" : ", ") + std::string(b.name) + "=" + std::to_string(*it->second);
      lines += (lines.empty() ? "" : "\n") + std::string("net.core.") + b.name + " = " + std::to_string(b.value);
    }
    if (!low.empty()) {
      std::string seen = low;
      if (h.softnet_read)
        seen += "; softnet_stat: " + std::to_string(h.softnet_squeezed) + " squeezes, " + std::to_string(h.softnet_dropped) +
                " drops since boot" + (h.softnet_squeezed + h.softnet_dropped == 0 ? " (the budgets are not yet short)" : "");
      out.push_back(make("napi-budget", Severity::Optional, "net.core", seen,
                         "a short softirq budget ends a poll with packets left (squeeze) and a short backlog drops them",
                         {Change{ChangeKind::Sysctl, lines}}));
    }
  }

  // The physical NICs under guests' bridges (or every physical NIC when no bridge has guests).
  std::vector<std::string> uplinks;
  for (const auto& b : h.bridges)
    if (!b.guest_ports.empty())
      for (const auto& p : b.physical)
        if (std::find(uplinks.begin(), uplinks.end(), p) == uplinks.end()) uplinks.push_back(p);
  if (uplinks.empty())
    for (const auto& n : h.nics) uplinks.push_back(n.name);
  for (const auto& name : uplinks) {
    const HostNicFacts* n = h.nic(name);
    if (!n) continue;
    if (n->rings && n->rings->rx_max >= 256 && n->rings->tx_max >= 256 && (n->rings->rx != 256 || n->rings->tx != 256))
      out.push_back(make("nic-rings", Severity::Recommended, name,
                         "rings rx " + std::to_string(n->rings->rx) + " tx " + std::to_string(n->rings->tx) + " (max " +
                             std::to_string(n->rings->rx_max) + "/" + std::to_string(n->rings->tx_max) + ")",
                         "the guide's 256 keeps the ring's buffers in cache; larger rings miss it, smaller ones drop bursts",
                         {Change{ChangeKind::Ethtool, "ethtool -G " + name + " rx 256 tx 256"}}));
    if (n->udp4_hash && (*n->udp4_hash & rxh::kSdfn) != rxh::kSdfn)
      out.push_back(make("nic-udp-hash", Severity::Recommended, name,
                         "UDP/IPv4 RX hash on '" + rxh_letters(*n->udp4_hash) + "' (IP addresses only)",
                         "hashing UDP on addresses only puts every flow between two hosts on one queue and one CPU",
                         {Change{ChangeKind::Ethtool, "ethtool -N " + name + " rx-flow-hash udp4 sdfn"}}));
  }

  // vhost.
  if (!h.vhost_net_loaded)
    out.push_back(make("vhost-net", Severity::Recommended, "vhost_net", "the vhost_net module is not loaded",
                       "without vhost-net, qemu moves every packet in userspace",
                       {Change{ChangeKind::Command, "modprobe vhost_net && echo vhost_net > /etc/modules-load.d/vhost_net.conf"}}));
  else if (h.zcopytx && !module_on(h.zcopytx))
    out.push_back(make("vhost-zcopytx", Severity::Optional, "vhost_net", "experimental_zcopytx=" + *h.zcopytx,
                       "for large packets: without zero copy, vhost copies each transmitted buffer once more",
                       {Change{ChangeKind::Modprobe, "options vhost_net experimental_zcopytx=1"}}));

  // KVM module options.
  if (h.kvm_amd && h.avic && !module_on(h.avic))
    out.push_back(make("kvm-amd-avic", Severity::Recommended, "kvm_amd", "avic=" + *h.avic,
                       "without AVIC every interrupt into a guest and every guest EOI exits to the hypervisor",
                       {Change{ChangeKind::Modprobe, "options kvm_amd avic=1"},
                        Change{ChangeKind::Command, "# with every VM shut down: modprobe -r kvm_amd && modprobe kvm_amd"}}));
  if (h.kvm_intel && h.ept && !module_on(h.ept))
    out.push_back(make("kvm-intel-ept", Severity::Recommended, "kvm_intel", "ept=" + *h.ept,
                       "without EPT every guest page table change exits to the hypervisor (shadow paging)",
                       {Change{ChangeKind::Modprobe, "options kvm_intel ept=1"},
                        Change{ChangeKind::Command, "# with every VM shut down: modprobe -r kvm_intel && modprobe kvm_intel"}}));

  // SMT, NUMA.
  const bool smt_on = h.smt_active ? *h.smt_active == "1" : h.topology.smt();
  if (smt_on)
    out.push_back(make("smt", Severity::Optional, "CPUs",
                       "SMT on (" + std::to_string(h.topology.cpus.size()) + " threads on " +
                           std::to_string(h.topology.cores_in(h.topology.all_cpus())) + " cores)",
                       "siblings share one core's caches; for I/O-bound setups the guide turns it off (with it on, never pin "
                       "one VM's vCPUs to two threads of one core)",
                       {Change{ChangeKind::Command, "echo off > /sys/devices/system/cpu/smt/control"},
                        Change{ChangeKind::Firmware, "or for good: 'nosmt' on the kernel command line, or SMT off in the BIOS"}}));
  const unsigned sockets = h.topology.sockets();
  if (h.cpu_vendor == "AuthenticAMD" && h.topology.nodes.size() <= sockets)
    out.push_back(make("numa-nps", Severity::Recommended, "NUMA",
                       std::to_string(h.topology.nodes.size()) + " NUMA node(s) on " + std::to_string(sockets) +
                           " AMD socket(s): the memory controllers are not exposed",
                       "without NUMA nodes per memory controller, placement cannot keep a VM next to its memory and NIC",
                       {Change{ChangeKind::Firmware, "BIOS: NUMA nodes per socket (NPS) = 4"}}));

  // irqbalance moves the NICs' interrupts, possibly onto pinned vCPUs' pCPUs.
  if (h.irqbalance && !pinned_vcpus.empty())
    out.push_back(make("irqbalance", Severity::Optional, "irqbalance",
                       "irqbalance runs, and domains pin vCPUs to pCPUs " + format_cpulist(pinned_vcpus),
                       "irqbalance may move NIC interrupts onto pCPUs that run vCPUs, which then stall for the host",
                       {Change{ChangeKind::Command, "IRQBALANCE_BANNED_CPULIST=" + format_cpulist(pinned_vcpus) +
                                                        "  # in /etc/default/irqbalance, then: systemctl restart irqbalance"}}));

  // Frequency policy and C-states.
  for (const auto& [gov, count] : h.governors)
    if (gov != "performance") {
      out.push_back(make("cpu-governor", Severity::Recommended, "cpufreq",
                         std::to_string(count) + " CPUs on the '" + gov + "' governor",
                         "clocking down between bursts adds wake-up latency to every burst's first packets",
                         {Change{ChangeKind::Command, "cpupower frequency-set -g performance"},
                          Change{ChangeKind::Firmware, "BIOS: energy/performance policy 'performance'"}}));
      break;
    }
  if (h.max_cstate) {
    const auto n = std::atoi(h.max_cstate->c_str());
    if (n > 1)
      out.push_back(make("c-states", Severity::Optional, "intel_idle", "max_cstate=" + *h.max_cstate,
                         "waking an idle core from a deep C-state delays the packets that woke it",
                         {Change{ChangeKind::Firmware, "intel_idle.max_cstate=1 on the kernel command line (more power)"}}));
  }

  // The host kernel's vhost/tun batching.
  const auto [major, minor] = major_minor(h.kernel_release);
  if (major != 0 && (major < 4 || (major == 4 && minor < 13)))
    out.push_back(make("host-kernel", Severity::Recommended, "kernel", "host kernel " + h.kernel_release,
                       "before 4.13 the host lacks vhost/tun batching (busy polling 4.6, ptr_ring 4.8, tun MSG_MORE 4.11, "
                       "batch dequeue 4.13)",
                       {Change{ChangeKind::Command, "install a newer kernel (the guide moved CentOS 7 hosts to 5.4)"}}));

  // Mitigations: a trade-off, never a recommendation.
  const bool mitigations_off = h.cmdline.find("mitigations=off") != std::string::npos;
  std::vector<std::string> mitigated;
  for (const auto& [name, text] : h.vulnerabilities)
    if (text.rfind("Mitigation", 0) == 0) mitigated.push_back(name);
  if (!mitigations_off && !mitigated.empty()) {
    std::string names;
    for (const auto& m : mitigated) names += (names.empty() ? "" : ", ") + m;
    out.push_back(make("mitigations", Severity::TradeOff, "kernel",
                       "CPU vulnerability mitigations active (" + names + ")",
                       "mitigations add cost to every system call, exit and context switch; the guide turned them off "
                       "for benchmarks only — that exposes the host to its guests",
                       {Change{ChangeKind::Firmware, "mitigations=off on the kernel command line ONLY on a host whose every "
                                                     "guest and process is trusted: a security trade-off, not a tuning"}}));
  }
  return out;
}

}  // namespace gn::advise
