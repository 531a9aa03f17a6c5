#include "fixture.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cpuset.h"
#include "ethtool.h"
#include "sysroot.h"

namespace gn::test {

namespace fs = std::filesystem;

namespace {

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

void link(const fs::path& p, const std::string& target) {
  fs::create_directories(p.parent_path());
  fs::create_symlink(target, p);
}

CpuSet must_list(const std::string& s) {
  auto r = parse_cpulist(s);
  if (!r) throw std::runtime_error(r.error().text());
  return *r;
}

// What the >= 4.19 driver does (docs/kernel-notes.md), written out independently of the planner:
// online CPUs in numeric order, ncpu/nq each, the first ncpu%nq queues one more; wrapping
// one CPU per queue when there are more queues than CPUs.
std::vector<CpuSet> driver_stripes(const CpuSet& online, unsigned nq) {
  const auto cpus = online.cpus();
  const unsigned n = static_cast<unsigned>(cpus.size());
  std::vector<CpuSet> out(nq);
  unsigned pos = 0;
  for (unsigned q = 0; q < nq; ++q) {
    if (nq >= n) {
      out[q].add(cpus[q % n]);
      continue;
    }
    for (unsigned i = 0; i < n / nq + (q < n % nq ? 1 : 0); ++i) out[q].add(cpus[pos++]);
  }
  return out;
}

}  // namespace

void Fixture::write(const std::string& dir_s) const {
  const fs::path dir(dir_s);
  const std::string cpu_dir = paths::kCpuDir;
  const std::string all = "0-" + std::to_string(possible - 1);
  const CpuSet online_set = must_list(online.empty() ? all : online);
  put(dir / paths::kOsRelease, release + "\n");
  put(dir / cpu_dir / "possible", all + "\n");
  put(dir / cpu_dir / "present", all + "\n");
  put(dir / cpu_dir / "online", format_cpulist(online_set) + "\n");
  put(dir / cpu_dir / "offline", format_cpulist(must_list(all) - online_set) + "\n");
  put(dir / cpu_dir / "isolated", isolated + "\n");
  put(dir / cpu_dir / "nohz_full", (nohz_full.empty() ? "(null)" : nohz_full) + "\n");
  // SMT siblings.
  std::vector<std::string> cores = smt;
  if (cores.empty())
    for (unsigned c = 0; c < possible; ++c) cores.push_back(std::to_string(c));
  for (const auto& core : cores)
    for (unsigned c : must_list(core).cpus())
      if (online_set.has(c))
        put(dir / cpu_dir / ("cpu" + std::to_string(c)) / "topology/thread_siblings_list", core + "\n");
  // NUMA nodes.
  const std::vector<std::string> node_lists = nodes.empty() ? std::vector<std::string>{all} : nodes;
  for (size_t i = 0; i < node_lists.size(); ++i)
    put(dir / paths::kNodeDir / ("node" + std::to_string(i)) / "cpulist", node_lists[i] + "\n");

  // Sysctls ("" leaves the file out: not on this kernel).
  for (const auto& [name, value] : sysctls)
    if (!value.empty()) put(dir / paths::kNetCoreSysctl / name, value + "\n");

  // softnet_stat: one row per online CPU.
  std::string softnet;
  for (unsigned c : online_set.cpus()) {
    for (unsigned col = 0; col < softnet_columns; ++col) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08x", col == 0 ? 1000 + c : col == 12 ? c : 0);
      softnet += (col ? " " : "") + std::string(buf);
    }
    softnet += "\n";
  }
  put(dir / paths::kSoftnetStat, softnet);
  put(dir / paths::kSnapshotUnreadable, "");
  put(dir / paths::kSnapshotDir / "FORMAT", "guest-nettune snapshot 1\n");
  if (irqbalance) put(dir / paths::kProc / "812/comm", "irqbalance\n");
  for (const auto& m : mitigations) put(dir / paths::kCpuDir / "vulnerabilities" / m, "Mitigation: Retpolines\n");
  put(dir / paths::kCpuDir / "vulnerabilities/meltdown", "Not affected\n");
  put(dir / paths::kProc / "1/comm", "systemd\n");

  // /proc/interrupts header and lines.
  std::string header = "    ";
  for (unsigned c : online_set.cpus()) header += "       CPU" + std::to_string(c);
  std::string irq_lines;
  unsigned next_irq = 24;
  std::string unreadable;
  const auto add_irq = [&](const std::string& name, const CpuSet& affinity) {
    const unsigned irq = next_irq++;
    std::string line = " " + std::to_string(irq) + ":";
    for (size_t i = 0; i < online_set.count(); ++i) line += "          0";
    line += "  PCI-MSI 49152-edge      " + name + "\n";
    irq_lines += line;
    const fs::path d = dir / paths::kIrqDir / std::to_string(irq);
    put(d / "smp_affinity", format_cpumask(affinity, possible) + "\n");
    put(d / "effective_affinity", format_cpumask(CpuSet::of({affinity.empty() ? 0 : affinity.cpus().front()}), possible) + "\n");
  };

  for (const auto& n : nics) {
    const fs::path net_class = dir / paths::kNetClass / n.name;
    std::string devdir;
    const bool bus = n.driver == "virtio_net" || n.driver == "e1000";
    if (bus) {
      const std::string pci = "devices/pci0000:00/0000:00:" + std::to_string(10 + n.virtio_index) + ".0";
      const std::string virtio = n.driver == "virtio_net" ? "/virtio" + std::to_string(n.virtio_index) : "";
      devdir = "sys/" + pci + virtio;
      link(dir / devdir / "driver", n.driver == "virtio_net" ? "../../../../bus/virtio/drivers/virtio_net"
                                                              : "../../../bus/pci/drivers/e1000");
      link(net_class, "../../" + pci + virtio + "/net/" + n.name);
      link(dir / devdir / "net" / n.name / "device", n.driver == "virtio_net" ? "../../../virtio" + std::to_string(n.virtio_index) : "../../../0000:00:" + std::to_string(10 + n.virtio_index) + ".0");
    } else {
      link(net_class, "../../devices/virtual/net/" + n.name);
    }
    const fs::path netdir = bus ? dir / devdir / "net" / n.name : dir / "sys/devices/virtual/net" / n.name;
    std::string uevent = "INTERFACE=" + n.name + "\n";
    if (!n.upper_kind.empty()) uevent = "DEVTYPE=" + n.upper_kind + "\n" + uevent;
    put(netdir / "uevent", uevent);
    for (const auto& l : n.lowers) link(netdir / ("lower_" + l), "../" + l);

    EthtoolFile ef;
    ef.driver = n.upper_kind == "bond" ? "bonding" : n.upper_kind == "vlan" ? "802.1Q VLAN Support" : n.driver;
    if (n.upper_kind.empty()) {
      Channels c;
      if (n.combined) {
        c.max_combined = n.max_queues;
        c.combined = n.queues;
      } else {
        c.max_rx = c.max_tx = n.max_queues;
        c.rx = c.tx = n.queues;
      }
      ef.channels = c;
    }
    put(dir / paths::kSnapshotEthtool / n.name, format_ethtool_file(ef));

    const unsigned nq = n.upper_kind.empty() ? n.queues : 1;
    const auto blocks = driver_stripes(online_set, nq);
    for (unsigned q = 0; q < nq; ++q) {
      const fs::path tx = netdir / "queues" / ("tx-" + std::to_string(q));
      CpuSet xps;
      if (n.xps == XpsState::Striped) xps = blocks[q];
      if (n.xps == XpsState::OneToOne && q < online_set.count()) xps = CpuSet::of({online_set.cpus()[q]});
      put(tx / "xps_cpus", format_cpumask(xps, possible) + "\n");
      put(tx / "tx_maxrate", "0\n");
      if (xps_rxqs) put(tx / "xps_rxqs", "0\n");
      if (n.max_queues == 1 && xps_rxqs) {
        // 4.19+: xps_cpus of a single-queue device answers ENOENT although it is listed.
        const std::string rel = fs::relative(tx / "xps_cpus", dir).string();
        unreadable += "2 " + rel + "\n";
      }
      const fs::path rx = netdir / "queues" / ("rx-" + std::to_string(q));
      put(rx / "rps_cpus", format_cpumask(CpuSet{}, possible) + "\n");
      put(rx / "rps_flow_cnt", "0\n");
    }
    if (n.driver != "virtio_net" || !n.upper_kind.empty()) continue;
    const std::string v = "virtio" + std::to_string(n.virtio_index);
    add_irq(v + "-config", online_set);
    if (n.irqs == IrqStyle::PerQueue) {
      for (unsigned q = 0; q < n.max_queues; ++q) {
        const CpuSet aff = n.xps == XpsState::Empty || q >= nq ? online_set : blocks[q];
        add_irq(v + "-input." + std::to_string(q), aff);
        add_irq(v + "-output." + std::to_string(q), aff);
      }
    } else if (n.irqs == IrqStyle::Shared) {
      add_irq(v + "-virtqueues", online_set);
    } else if (n.irqs == IrqStyle::Legacy) {
      add_irq(v, online_set);
    }
  }
  // Canonical paths in the unreadable list, as capture records them.
  std::string canon;
  {
    const SysRoot root(dir.string());
    std::istringstream in(unreadable);
    std::string err, rel;
    while (in >> err >> rel) {
      auto r = root.resolve(rel);
      canon += err + " " + (r ? *r : rel) + "\n";
    }
  }
  put(dir / paths::kSnapshotUnreadable, canon);
  put(dir / paths::kInterrupts, header + "\n" + irq_lines +
                                    "NMI:          0          0   Non-maskable interrupts\n"
                                    "LOC:      12345      23456   Local timer interrupts\n");
}

std::map<std::string, Fixture> named_fixtures() {
  std::map<std::string, Fixture> m;
  const auto nic = [](std::string name, unsigned idx, unsigned max, unsigned cur, XpsState xps) {
    FixtureNic n;
    n.name = std::move(name);
    n.virtio_index = idx;
    n.max_queues = max;
    n.queues = cur;
    n.xps = xps;
    return n;
  };
  {  // RHEL 7.4: the driver picks the queue; probe started with one queue pair of eight.
    Fixture f;
    f.release = "3.10.0-693.el7.x86_64";
    f.possible = 8;
    f.xps_rxqs = false;
    f.softnet_columns = 10;
    f.sysctls["netdev_budget_usecs"] = "";
    f.nics = {nic("eth0", 0, 8, 1, XpsState::Empty)};
    m["rhel7.4-combined-1-of-8"] = f;
  }
  {  // RHEL 7.9: XPS honoured, 1:1 set by the driver since queues == CPUs; no netdev_budget_usecs.
    Fixture f;
    f.release = "3.10.0-1160.el7.x86_64";
    f.xps_rxqs = false;
    f.softnet_columns = 11;
    f.sysctls["netdev_budget_usecs"] = "";
    f.nics = {nic("eth0", 0, 4, 4, XpsState::OneToOne)};
    m["rhel7.9-4-queues"] = f;
  }
  {  // RHEL 8.0 with 9 vCPUs and 4 queues: the driver leaves XPS empty (the source's example).
    Fixture f;
    f.release = "4.18.0-80.el8.x86_64";
    f.possible = 9;
    f.xps_rxqs = false;
    f.softnet_columns = 11;
    f.nics = {nic("eth0", 0, 4, 4, XpsState::Empty)};
    m["rhel8.0-9vcpu-4-queues"] = f;
  }
  {  // RHEL 8.1 with 8 vCPUs and 4 queues: xps_rxqs is backported, but the driver is still the
     // one that sets XPS only when queues == CPUs, so XPS is empty (docs/kernel-notes.md).
    Fixture f;
    f.release = "4.18.0-147.el8.x86_64";
    f.possible = 8;
    f.xps_rxqs = true;
    f.softnet_columns = 11;
    f.nics = {nic("eth0", 0, 4, 4, XpsState::Empty)};
    m["rhel8.1-xps_rxqs-8vcpu-4-queues"] = f;
  }
  {  // 6.1: 4 queues on 4 vCPUs already striped by the driver.
    Fixture f;
    f.nics = {nic("eth0", 0, 4, 4, XpsState::Striped)};
    m["linux6.1-striped"] = f;
  }
  {  // Two NUMA nodes of 36 CPUs, SMT siblings n and n+18 within each node.
    Fixture f;
    f.possible = 72;
    f.softnet_columns = 15;
    f.nodes = {"0-35", "36-71"};
    for (unsigned node = 0; node < 2; ++node)
      for (unsigned c = 0; c < 18; ++c)
        f.smt.push_back(std::to_string(node * 36 + c) + "," + std::to_string(node * 36 + c + 18));
    f.nics = {nic("eth0", 0, 16, 16, XpsState::Striped)};
    m["numa-2x36"] = f;
  }
  {  // 288 vCPUs, 64 queue pairs offered, 8 in use.
    Fixture f;
    f.possible = 288;
    f.nics = {nic("eth0", 0, 64, 8, XpsState::Striped)};
    m["cpus-288"] = f;
  }
  {  // CPUs 6 and 7 offline.
    Fixture f;
    f.possible = 8;
    f.online = "0-5";
    f.nics = {nic("eth0", 0, 8, 8, XpsState::Empty)};
    m["offline-cpus"] = f;
  }
  {  // CPUs 2-3 isolated (isolcpus) and nohz_full.
    Fixture f;
    f.possible = 8;
    f.isolated = "2-3";
    f.nohz_full = "2-3";
    f.nics = {nic("eth0", 0, 8, 8, XpsState::Striped)};
    m["isolated-cpus"] = f;
  }
  {  // SMT pairs numbered apart: (0,4), (1,5), (2,6), (3,7).
    Fixture f;
    f.possible = 8;
    f.smt = {"0,4", "1,5", "2,6", "3,7"};
    f.nics = {nic("eth0", 0, 4, 4, XpsState::Striped)};
    m["smt-pairs"] = f;
  }
  {  // One queue pair: nothing to stripe.
    Fixture f;
    f.nics = {nic("eth0", 0, 1, 1, XpsState::Empty)};
    m["single-queue"] = f;
  }
  {  // A non-virtio NIC beside a virtio one.
    Fixture f;
    FixtureNic e = nic("ens3", 1, 1, 1, XpsState::Empty);
    e.driver = "e1000";
    e.irqs = IrqStyle::None;
    f.nics = {nic("eth0", 0, 4, 2, XpsState::Empty), e};
    m["non-virtio-nic"] = f;
  }
  {  // A bond over two virtio NICs (one with a shared IRQ vector).
    Fixture f;
    FixtureNic b;
    b.name = "bond0";
    b.driver = "";
    b.upper_kind = "bond";
    b.lowers = {"eth0", "eth1"};
    FixtureNic e1 = nic("eth1", 1, 4, 1, XpsState::Empty);
    e1.irqs = IrqStyle::Shared;
    f.nics = {nic("eth0", 0, 4, 4, XpsState::Empty), e1, b};
    m["bond-over-virtio"] = f;
  }
  {  // A VLAN on a virtio NIC.
    Fixture f;
    FixtureNic v;
    v.name = "eth0.100";
    v.driver = "";
    v.upper_kind = "vlan";
    v.lowers = {"eth0"};
    f.nics = {nic("eth0", 0, 4, 2, XpsState::Empty), v};
    m["vlan-on-virtio"] = f;
  }
  {  // More queues than CPUs: 8 queue pairs on 2 vCPUs.
    Fixture f;
    f.possible = 2;
    f.nics = {nic("eth0", 0, 8, 8, XpsState::Empty)};
    m["more-queues-than-cpus"] = f;
  }
  return m;
}

}  // namespace gn::test
